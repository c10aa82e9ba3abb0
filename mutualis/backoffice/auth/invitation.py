"""The invitation link: the invited staff member chooses a password, then enrols their second
factor before anything else (the password step of the login is thereby done)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from mutualis.backoffice.access import no_store, render_page, start_pending_login
from mutualis.members.models import User, UserKind
from mutualis.staff import accounts
from mutualis.staff.invitations import invitation_tokens, validity_hours


def invitation_url(uidb64: str, token: str) -> str:
    """The face's link builder for ``staff.accounts``: the configured site address, never the
    request's Host."""
    path = reverse("backoffice:invitation", kwargs={"uidb64": uidb64, "token": token})
    return f"{settings.MUTUALIS_SITE_URL.rstrip('/')}{path}"


class StaffPasswordForm(SetPasswordForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Mot de passe"
        self.fields[
            "new_password1"
        ].help_text = (
            "12 caractères au moins, ni trop courant, ni proche de votre adresse électronique."
        )
        self.fields["new_password2"].label = "Le même mot de passe, à nouveau"
        self.error_messages = {
            **self.error_messages,
            "password_mismatch": "Les deux mots de passe ne sont pas identiques.",
        }


class AcceptInvitationView(auth_views.PasswordResetConfirmView):
    """Django's reset-confirm flow (the token leaves the address before the form is shown) with
    the invitation's own token, for staff accounts that have not chosen a password yet."""

    form_class = StaffPasswordForm
    token_generator = invitation_tokens
    template_name = "backoffice/auth/invitation.html"
    reset_url_token = "choisir-mot-de-passe"  # noqa: S105 - a URL segment, not a secret

    def get_user(self, uidb64: str) -> User | None:
        user = super().get_user(uidb64)
        if user is None or user.kind != UserKind.STAFF or not user.is_active:
            return None
        if not user.role or user.has_usable_password():
            return None
        return user

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["hours"] = validity_hours()
        return context

    def render_to_response(self, context, **kwargs) -> HttpResponse:
        return render_page(self.request, self.template_name, context)

    def form_valid(self, form: StaffPasswordForm) -> HttpResponse:
        user = accounts.accept_invitation(
            account=form.user, password=form.cleaned_data["new_password1"]
        )
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        start_pending_login(self.request, user, reverse("backoffice:home"))
        return no_store(redirect("backoffice:enrol"))


accept_invitation = AcceptInvitationView.as_view()
