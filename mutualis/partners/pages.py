"""The health professionals' API, for the security suite: exempted here, as its own suite checks
each endpoint against the OpenAPI schema (schemathesis), with keys, errors and headers."""

from mutualis.lib.pages import exempt

for name in ("openapi-json", "check_rights", "list_notices", "api-root"):
    exempt(
        f"partners:{name}",
        "JSON API authenticated by key, not by session: checked against its OpenAPI schema by "
        "schemathesis and by its own tests (keys, rate limit, problem details)",
    )
