"""What an API key may do: one scope per resource and verb, checked by ApiView on every request."""

SCOPES = (
    "catalog:read",
    "catalog:write",
    "orders:read",
    "orders:write",
    "contacts:read",
    "contacts:write",
    "messages:read",
    "messages:send",
    "templates:read",
    "threads:read",
    "webhooks:manage",
    "campaigns:read",
    "campaigns:write",
)


def scopes_unknown(scopes) -> list[str]:
    """The names in `scopes` that are not scopes, in their order."""
    return [scope for scope in scopes if scope not in SCOPES]
