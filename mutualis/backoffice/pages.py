"""The back office's login pages and home for the security and accessibility suites
(``mutualis.lib.pages``); each area states its own pages in its ``pages.py``."""

from mutualis.lib.pages import cover

# Before the login: no staff_view. The code and enrolment steps need a password just given;
# without one they send back to the login page.
cover("backoffice:login", public=True)
cover("backoffice:login_code", public=True, status=302)
cover("backoffice:enrol", public=True, status=302)
cover("backoffice:login_recovery", public=True, status=302)
cover("backoffice:logout", public=True, status=405)
cover(
    "backoffice:invitation",
    public=True,
    kwargs=lambda w: {"uidb64": "MTIz", "token": "cb4cfe-0123456789abcdef0123456789abcdef"},
)
cover("backoffice:home")
cover("backoffice:reauthenticate")
cover("backoffice:my_security")
cover("backoffice:new_recovery_codes")
