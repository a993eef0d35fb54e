"""Events to the storefront: endpoints, the event outbox written in the change's transaction, signing, delivery."""
