"""« Écrire à la mutuelle »: the member's threads with the mutuelle (policy sections 1-A, 7).

A member sees the threads about them, whatever the channel (their messages here, their e-mails,
the calls and letters staff registered), through ``Inquiry.objects.visible_to``: another
member's thread is a 404, for reading and for replying alike. A member who ticks "réclamation"
has expressed dissatisfaction: the thread is qualified as a complaint at once (ACPR 2022-R-01),
so its deadlines show in the réclamations queue from the day it is received.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import FormView, ListView

from mutualis.contact import services
from mutualis.contact.forms import AttachmentField, message_field
from mutualis.contact.models import (
    Attachment,
    Channel,
    ComplainantType,
    Direction,
    Inquiry,
    Message,
    Status,
)
from mutualis.portal.access import MemberRequiredMixin
from mutualis.privacy import catalogue
from mutualis.privacy.policy import INBOUND_EMAIL_RETENTION_MONTHS

# How a status reads from the member's side of the thread.
MEMBER_STATUS = {
    Status.OPEN: "En cours de traitement",
    Status.WAITING: "En attente d'une réponse de votre part",
    Status.ANSWERED: "Répondu",
    Status.CLOSED: "Clos",
}


class NewMessageForm(forms.Form):
    subject = forms.CharField(label="Objet", max_length=200)
    body = forms.CharField()  # replaced in __init__: its limit is read from the settings
    attachment = AttachmentField()
    is_complaint = forms.BooleanField(
        label="Mon message est une réclamation : j'exprime un mécontentement",
        help_text="Nous en accuserons réception sous 10 jours ouvrés et vous répondrons dans "
        "les 2 mois.",
        required=False,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"] = message_field()


class ReplyForm(forms.Form):
    body = forms.CharField()
    attachment = AttachmentField()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"] = message_field("Votre réponse")


def member_status(inquiry: Inquiry) -> str:
    return MEMBER_STATUS.get(inquiry.status, inquiry.get_status_display())


def _is_archived(inquiry: Inquiry) -> bool:
    complaint = getattr(inquiry, "complaint", None)
    return complaint is not None and complaint.archived_at is not None


class MessageListView(MemberRequiredMixin, ListView):
    template_name = "portal/messages/list.html"
    context_object_name = "threads"
    paginate_by = 20

    def get_queryset(self):
        last = Message.objects.filter(inquiry=OuterRef("pk")).order_by("-at")
        return (
            Inquiry.objects.visible_to(self.request.user)
            .select_related("complaint")
            .annotate(
                last_at=Subquery(last.values("at")[:1]),
                last_direction=Subquery(last.values("direction")[:1]),
            )
            .order_by("-last_contact_at", "-received_at")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["retention"] = {
            "emails_months": INBOUND_EMAIL_RETENTION_MONTHS,
            "inquiries": catalogue.RETENTION_INQUIRIES,
            "complaints": catalogue.RETENTION_COMPLAINTS,
        }
        context["rows"] = [
            {
                "inquiry": inquiry,
                "status": member_status(inquiry),
                "from_us": inquiry.last_direction == Direction.OUTBOUND,
            }
            for inquiry in context["threads"]
        ]
        return context


class NewMessageView(MemberRequiredMixin, FormView):
    form_class = NewMessageForm
    template_name = "portal/messages/new.html"

    def form_valid(self, form: NewMessageForm) -> HttpResponse:
        data = form.cleaned_data
        with transaction.atomic():
            inquiry = services.open_inquiry(
                channel=Channel.MEMBER_SPACE,
                subject=data["subject"],
                body=data["body"],
                person=self.member.person,
                files=[data["attachment"]] if data["attachment"] else [],
                actor=self.request.user,
            )
            if data["is_complaint"]:
                services.qualify_as_complaint(
                    inquiry=inquiry,
                    complainant_type=ComplainantType.MEMBER,
                    reason=data["subject"],
                    actor=self.request.user,
                )
        messages.success(
            self.request,
            f"Votre message a bien été envoyé (référence {inquiry.reference}). Nous vous "
            f"répondrons au plus tard le {inquiry.answer_due:%d/%m/%Y}.",
        )
        return redirect("portal:message_thread", pk=inquiry.pk)


class ThreadView(MemberRequiredMixin, FormView):
    form_class = ReplyForm
    template_name = "portal/messages/thread.html"
    inquiry: Inquiry

    def _load(self) -> None:
        # Only the member's own threads: anyone else's is a 404, never a 403 that confirms it.
        self.inquiry = get_object_or_404(
            Inquiry.objects.visible_to(self.request.user).select_related("complaint"),
            pk=self.kwargs["pk"],
        )

    def get(self, request, *args, **kwargs):
        self._load()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self._load()
        if _is_archived(self.inquiry):
            messages.error(
                request,
                "Cette réclamation est close : pour y donner suite, écrivez-nous un nouveau "
                "message en rappelant sa référence.",
            )
            return redirect("portal:message_thread", pk=self.inquiry.pk)
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        thread = self.inquiry.messages.prefetch_related(
            Prefetch(
                "attachments", queryset=Attachment.objects.only("id", "message", "filename", "size")
            )
        ).order_by("at")
        context.update(
            inquiry=self.inquiry,
            status=member_status(self.inquiry),
            thread=thread,
            complaint=getattr(self.inquiry, "complaint", None),
            can_reply=not _is_archived(self.inquiry),
        )
        return context

    def form_valid(self, form: ReplyForm) -> HttpResponse:
        data = form.cleaned_data
        services.add_inbound_message(
            inquiry=self.inquiry,
            channel=Channel.MEMBER_SPACE,
            body=data["body"],
            files=[data["attachment"]] if data["attachment"] else [],
            actor=self.request.user,
        )
        messages.success(self.request, "Votre réponse a bien été envoyée.")
        return redirect("portal:message_thread", pk=self.inquiry.pk)
