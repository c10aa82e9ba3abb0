"""Choosing a password: first activation of the account, and reset by e-mail.

Both use Django's signed, single-use tokens (``default_token_generator``): a token is derived
from the password hash and the last login, so it is spent as soon as a password is set, and it
expires after ``PASSWORD_RESET_TIMEOUT``. The reset request never tells whether an address is
known (GDPR art. 32; the same answer for everyone).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse_lazy

from mutualis.members import services
from mutualis.members.models import User, UserKind
from mutualis.portal.forms import MemberPasswordResetForm, NewPasswordForm

# The session keeps the link's token under this key while the form is shown (Django's own).
_SESSION_TOKEN = auth_views.INTERNAL_RESET_SESSION_TOKEN


class PasswordResetView(auth_views.PasswordResetView):
    form_class = MemberPasswordResetForm
    template_name = "portal/password_reset_form.html"
    email_template_name = "portal/email/password_reset.txt"
    subject_template_name = "portal/email/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password_reset_done")

    def get_extra_email_context(self) -> dict:
        return {
            # Links in e-mails use the configured site address, never the request's Host.
            "site_url": settings.MUTUALIS_SITE_URL.rstrip("/"),
            "organisation": settings.MUTUALIS_ORGANISATION,
            "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        }

    def form_valid(self, form: MemberPasswordResetForm) -> HttpResponse:
        self.extra_email_context = self.get_extra_email_context()
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["hours"] = settings.PASSWORD_RESET_TIMEOUT // 3600
        return context


class _ChoosePasswordView(auth_views.PasswordResetConfirmView):
    """Shared by activation and reset: only active member accounts, and the write goes through
    ``members.services.set_account_password`` (audited) instead of ``form.save()``."""

    form_class = NewPasswordForm
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    reset_url_token = "nouveau-mot-de-passe"  # noqa: S105 - a URL segment, not a secret

    def get_user(self, uidb64: str) -> User | None:
        user = super().get_user(uidb64)
        if user is None or not user.is_active or user.kind != UserKind.MEMBER:
            return None
        return user

    def form_valid(self, form: NewPasswordForm) -> HttpResponse:
        user = services.set_account_password(
            account=form.user, password=form.cleaned_data["new_password1"]
        )
        del self.request.session[_SESSION_TOKEN]
        if self.post_reset_login:
            auth_login(self.request, user, self.post_reset_login_backend)
            services.record_login(account=user)
        self.on_success()
        return HttpResponseRedirect(self.get_success_url())

    def on_success(self) -> None:
        raise NotImplementedError


class ActivateAccountView(_ChoosePasswordView):
    """The link of the activation e-mail (``portal.links.activation_link``)."""

    template_name = "portal/activate.html"
    post_reset_login = True
    success_url = reverse_lazy("portal:dashboard")

    def on_success(self) -> None:
        messages.success(
            self.request,
            "Votre mot de passe est enregistré et votre espace adhérent est activé. Bienvenue !",
        )


class PasswordResetConfirmView(_ChoosePasswordView):
    template_name = "portal/password_reset_confirm.html"
    post_reset_login = False
    success_url = reverse_lazy("portal:password_reset_complete")

    def on_success(self) -> None:
        pass


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"
