"""Rectification of the member's contact details (GDPR art. 16), and the notice of it to every
organisation that received them (art. 19)."""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError
from django.http import HttpResponse
from django.urls import reverse_lazy
from django.utils.text import get_text_list
from django.views.generic import FormView

from mutualis.members.models import Person
from mutualis.members.services import CONTACT_FIELDS
from mutualis.portal.access import MemberRequiredMixin
from mutualis.portal.emails import notify_login_address_changed
from mutualis.portal.forms import ContactDetailsForm
from mutualis.recipients import notices

# Where an art. 19 notice says the correction came from.
SOURCE = "espace adhérent : coordonnées corrigées par la personne"


class ContactDetailsView(MemberRequiredMixin, FormView):
    form_class = ContactDetailsForm
    template_name = "portal/contact_form.html"
    success_url = reverse_lazy("portal:contact_details")

    def get_form_kwargs(self) -> dict:
        return {
            **super().get_form_kwargs(),
            "account": self.request.user,
            "person": self.member.person,
        }

    def form_valid(self, form: ContactDetailsForm) -> HttpResponse:
        old_email = self.member.person.email
        try:
            # The correction and its GDPR art. 19 notices to the organisations that received
            # these data (an authority's requisition) go together.
            rectified = notices.rectify_contact_details(
                person=self.member.person,
                changes=form.changes(),
                actor=self.request.user,
                source=SOURCE,
            )
        except IntegrityError:
            # Another account took the address between the form's check and the write.
            form.add_error("email", "Cette adresse électronique est déjà utilisée.")
            return self.form_invalid(form)
        changed = rectified.changed
        if not changed:
            messages.info(self.request, "Aucune modification : vos coordonnées sont inchangées.")
        else:
            labels = [
                str(Person._meta.get_field(name).verbose_name)
                for name in CONTACT_FIELDS
                if name in changed
            ]
            text = f"Vos coordonnées ont été mises à jour ({get_text_list(labels, 'et')})."
            if rectified.told:
                text += (
                    " Elles avaient été communiquées aux destinataires suivants, que nous "
                    f"informons de la rectification (RGPD art. 19) : "
                    f"{get_text_list(rectified.told, 'et')}."
                )
            messages.success(self.request, text)
            if "email" in changed and old_email:
                notify_login_address_changed(old_email=old_email)
        return super().form_valid(form)
