"""The public site's pages for the security and accessibility suites (``mutualis.lib.pages``)."""

from mutualis.lib.pages import cover, exempt


def _policy_date(world) -> dict:
    from mutualis.privacy import policy

    version = world.get("policy", lambda w: policy.publish()[0])
    return {"version": version.effective_date.isoformat()}


def _cgu_date(world) -> dict:
    from mutualis.contracts import terms

    return {"version": terms.current_cgu().effective_date.isoformat()}


def _unsubscribe_token(world) -> dict:
    from mutualis.tests_security.world import unsubscribe_token

    return {"token": unsubscribe_token(world)}


def _subscription_started(client, world) -> None:
    """A visitor who began an online subscription (the wizard's steps need a draft)."""
    from django.urls import reverse

    client.post(reverse("web:subscription:start"))


for name in ("home", "policy", "legal", "cookies", "contact", "contact-thanks", "cgu"):
    cover(f"web:{name}", public=True)
cover("web:accessibility", public=True)
cover("web:policy-version", public=True, kwargs=_policy_date)
cover("web:subscription:start", public=True)
cover("web:subscription:abandon", public=True, status=302)  # back to the start when none
cover("web:subscription:done", public=True, status=302)  # nothing confirmed yet: the start
cover(
    "web:subscription:step",
    public=True,
    kwargs=lambda w: {"slug": "identite"},
    setup=_subscription_started,
)
cover(
    "web:subscription:beneficiary",
    public=True,
    kwargs=lambda w: {"number": 1},
    setup=_subscription_started,
    status=302,  # the beneficiaries come after the identity: back to the first step to do
)
cover("web:rights-form", public=True)
cover("web:rights-sent", public=True)
cover("web:audience_choice", public=True)
cover("web:policy-changes", public=True, kwargs=_policy_date)
cover("web:cgu-version", public=True, kwargs=_cgu_date)
# The confirmation page of a request without an account shows its button for any token (a
# mail client that opens links in advance confirms nothing); a void one is refused on POST.
cover("web:rights-verify", public=True, kwargs=lambda w: {"token": "jeton-sans-demande"})
cover(
    "web:unsubscribe",
    public=True,
    kwargs=_unsubscribe_token,
    csrf_exempt="RFC 8058 one-click unsubscribe: a mail client posts it by itself, with no "
    "cookie and no token; a forged post can only withdraw the consent the link's holder may "
    "withdraw anyway",
)
exempt("web:favicon", "a static icon, no page")
exempt("web:audience_event", "a JSON beacon posted by the page script; tested by its own suite")
