"""Logging in and out of the member space, with the login history in the audit log and the
logins, refusals, lockouts and session durations in the security log (members.sessions)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import reverse_lazy

from mutualis.members import services, sessions
from mutualis.members.models import EMAIL_MAX_LENGTH, User
from mutualis.portal.forms import LoginForm

# Non-field error codes of LoginForm that mean "authentication was attempted and refused".
_REFUSALS = {
    "invalid_login": "invalid_credentials",
    "inactive": "inactive",
    "not_member": "not_member",
}


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["session_minutes"] = settings.SESSION_COOKIE_AGE // 60
        return context

    def form_valid(self, form: LoginForm) -> HttpResponse:
        response = super().form_valid(form)
        services.record_login(account=form.get_user())
        sessions.logged_in(self.request, account=form.get_user(), space=sessions.MEMBER_SPACE)
        return response

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        reason = self._refusal(form)
        if reason:
            account = self._matched_account(form)
            services.record_failed_login(account=account, reason=reason)
            sessions.login_refused(
                self.request, account=account, space=sessions.MEMBER_SPACE, reason=reason
            )
        return super().form_invalid(form)

    def _refusal(self, form: LoginForm) -> str | None:
        if getattr(self.request, "axes_locked_out", False):
            return sessions.LOCKED_OUT
        codes = [error.code for error in form.non_field_errors().as_data()]
        return next((_REFUSALS[code] for code in codes if code in _REFUSALS), None)

    @staticmethod
    def _matched_account(form: LoginForm) -> User | None:
        typed = form.cleaned_data.get("username")
        if not typed or len(typed) > EMAIL_MAX_LENGTH:  # no address is longer (RFC 5321)
            return None
        return User.objects.filter(email__iexact=typed).first()


class LogoutView(auth_views.LogoutView):
    """POST only (Django's LogoutView refuses GET): a link cannot log a member out."""

    next_page = reverse_lazy("portal:login")

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        account = request.user if request.user.is_authenticated else None
        if account is not None:
            services.record_logout(account=account)
            sessions.logged_out(request, account=account)
        response = super().post(request, *args, **kwargs)
        if account is not None:
            messages.info(request, "Vous êtes déconnecté de votre espace adhérent.")
        return response
