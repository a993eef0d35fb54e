"""The REST API's common parts: API keys and scopes, problem details, cursor pages, idempotency, limits."""
