"""« Mes droits »: the member files each right from the member space (policy section 5).

Every page acts for the member whose account is logged in; a request is found among that
member's own (``RightsRequest.objects.visible_to``), so anyone else's answers 404. The views only
call :mod:`mutualis.rights.services`: the work, the audit and the e-mails happen there.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, TemplateView

from mutualis.portal import forms_rights as forms
from mutualis.portal import links
from mutualis.portal.access import MemberRequiredMixin
from mutualis.portal.emails import notify_login_address_changed
from mutualis.privacy.policy import CNIL
from mutualis.rights import export, handlers, post_mortem, processing, services
from mutualis.rights.models import (
    Kind,
    PostMortemDirective,
    RequestEvent,
    RightsRequest,
    Status,
)


@dataclass(frozen=True)
class Right:
    kind: str
    url_name: str
    title: str
    summary: str
    article: str


RIGHTS = (
    Right(
        Kind.ACCESS,
        "rights_access",
        "Obtenir une copie de mes données",
        "Toutes les données que nous détenons sur vous et vos bénéficiaires, avec les finalités, "
        "les destinataires et les durées de conservation. Disponible immédiatement.",
        "RGPD art. 15",
    ),
    Right(
        Kind.RECTIFICATION,
        "rights_rectification",
        "Faire rectifier mes données",
        "Corriger ou compléter une donnée inexacte : vos coordonnées immédiatement, votre état "
        "civil ou votre numéro de sécurité sociale après vérification.",
        "RGPD art. 16",
    ),
    Right(
        Kind.ERASURE,
        "rights_erasure",
        "Faire effacer mes données",
        "Nous effaçons tout ce que la loi ne nous oblige pas à conserver, et vous disons ce qui "
        "est conservé, pourquoi et jusqu'à quand.",
        "RGPD art. 17",
    ),
    Right(
        Kind.PORTABILITY,
        "rights_portability",
        "Récupérer mes données (portabilité)",
        "Les données que vous nous avez fournies, en fichiers JSON et CSV, pour les transmettre "
        "à un autre organisme. Disponible immédiatement.",
        "RGPD art. 20",
    ),
    Right(
        Kind.MARKETING_OBJECTION,
        "rights_marketing_objection",
        "M'opposer à la prospection",
        "Sans avoir à vous justifier : plus aucune communication commerciale, immédiatement.",
        "RGPD art. 21(2)",
    ),
    Right(
        Kind.CONSENT_WITHDRAWAL,
        "rights_consent_withdrawal",
        "Retirer mon consentement",
        "Retirer en un clic tous les accords que vous nous avez donnés. Ce retrait vaut pour "
        "l'avenir.",
        "RGPD art. 7(3)",
    ),
    Right(
        Kind.OBJECTION,
        "rights_objection",
        "M'opposer à un traitement pour des raisons personnelles",
        "Pour les traitements fondés sur l'intérêt légitime de la mutuelle : notre délégué à la "
        "protection des données examine vos raisons.",
        "RGPD art. 21(1)",
    ),
    Right(
        Kind.RESTRICTION,
        "rights_restriction",
        "Limiter l'usage de mes données",
        "Vos données sont seulement conservées, sans autre usage, le temps d'une vérification "
        "ou d'une procédure.",
        "RGPD art. 18",
    ),
    Right(
        Kind.POST_MORTEM,
        "rights_post_mortem",
        "Mes directives en cas de décès",
        "Dire ce que deviendront vos données après votre décès, et qui veillera à leur respect.",
        "Loi 78-17 art. 85",
    ),
)


def _request_page(request: RightsRequest):
    return redirect("portal:rights_request", pk=request.pk)


class RightsIndexView(MemberRequiredMixin, TemplateView):
    template_name = "portal/rights/index.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            rights=RIGHTS,
            requests=RightsRequest.objects.visible_to(self.request.user).filter(
                archived_at__isnull=True
            ),
            cnil=CNIL,
        )
        return context


class _RightView(MemberRequiredMixin, FormView):
    """A page explaining one right, with its form; valid, the request is filed and handled."""

    kind: str
    template_name = "portal/rights/file.html"
    form_class = forms.ConfirmForm
    done_message = "Votre demande est enregistrée."

    @property
    def right(self) -> Right:
        return next(r for r in RIGHTS if r.kind == self.kind)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(right=self.right, cnil=CNIL)
        return context

    def details(self, form) -> dict:
        return {}

    def form_valid(self, form):
        try:
            rights_request = processing.request_from_member_space(
                member=self.member,
                kind=self.kind,
                details=self.details(form),
                links=links.RIGHTS_LINKS,
            )
        except services.RightsError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        messages.success(self.request, self.message_for(rights_request))
        return _request_page(rights_request)

    def message_for(self, rights_request: RightsRequest) -> str:
        if rights_request.status == Status.ANSWERED:
            return "C'est fait : la réponse à votre demande figure ci-dessous."
        return self.done_message


class AccessView(_RightView):
    kind = Kind.ACCESS


class PortabilityView(_RightView):
    kind = Kind.PORTABILITY


class MarketingObjectionView(_RightView):
    kind = Kind.MARKETING_OBJECTION


class ConsentWithdrawalView(_RightView):
    kind = Kind.CONSENT_WITHDRAWAL


class RectificationView(_RightView):
    kind = Kind.RECTIFICATION
    form_class = forms.RectificationForm
    done_message = (
        "Votre demande est enregistrée. Les données qui demandent une vérification le seront "
        "par nos services ; nous vous répondrons au plus tard à la date indiquée."
    )

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "person": self.member.person,
            "account": self.request.user,
        }

    def details(self, form) -> dict:
        return {"changes": form.changes(), "comment": form.cleaned_data["comment"].strip()}

    def form_valid(self, form):
        old_email = self.member.person.email
        response = super().form_valid(form)
        self.member.person.refresh_from_db(fields=["email"])
        if old_email and self.member.person.email != old_email:
            # The login address changed with it: the previous address is told (account takeover).
            notify_login_address_changed(old_email=old_email)
        return response


class ObjectionView(_RightView):
    kind = Kind.OBJECTION
    form_class = forms.ObjectionForm
    done_message = (
        "Votre opposition est transmise à notre délégué à la protection des données, qui vous "
        "répondra au plus tard à la date indiquée."
    )

    def details(self, form) -> dict:
        return {
            "purposes": form.cleaned_data["purposes"],
            "grounds": form.cleaned_data["grounds"].strip(),
        }


class RestrictionView(_RightView):
    kind = Kind.RESTRICTION
    form_class = forms.RestrictionForm

    def details(self, form) -> dict:
        return form.details()


class PostMortemView(_RightView):
    kind = Kind.POST_MORTEM
    form_class = forms.DirectiveForm
    template_name = "portal/rights/post_mortem.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["directives"] = PostMortemDirective.objects.in_force().filter(
            person=self.member.person
        )
        return context

    def details(self, form) -> dict:
        return form.details()


class RevokeDirectiveView(MemberRequiredMixin, View):
    """Revoke one of the member's own directives (anyone else's: 404)."""

    def post(self, request, pk):
        directive = get_object_or_404(
            PostMortemDirective.objects.in_force(), pk=pk, person=self.member.person
        )
        post_mortem.revoke_directive(directive=directive, actor=request.user)
        messages.success(request, "Vos directives sont révoquées.")
        return redirect("portal:rights_post_mortem")


class ErasureView(_RightView):
    """The confirmation page shows, from the declaration, what will go and what the law keeps."""

    kind = Kind.ERASURE
    form_class = forms.ErasureForm
    template_name = "portal/rights/erasure.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["plan"] = handlers.erasure_preview(self.member.person)
        return context

    def form_valid(self, form):
        account = self.request.user
        try:
            rights_request = processing.request_from_member_space(
                member=self.member, kind=self.kind, links=links.RIGHTS_LINKS
            )
        except services.RightsError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        account.refresh_from_db()
        if not account.is_active:
            # The account closed with the erasure: the answer is shown once, then sent by e-mail.
            logout(self.request)
            return render(
                self.request,
                "portal/rights/erasure_done.html",
                {"rights_request": rights_request, "cnil": CNIL},
            )
        messages.success(self.request, self.message_for(rights_request))
        return _request_page(rights_request)


class RequestDetailView(MemberRequiredMixin, TemplateView):
    """One of the member's requests: status, deadline, answer; the copy for access and
    portability."""

    template_name = "portal/rights/request.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rights_request = get_object_or_404(
            RightsRequest.objects.visible_to(self.request.user), pk=self.kwargs["pk"]
        )
        answered = rights_request.status in (Status.ANSWERED, Status.CLOSED)
        access = None
        if answered and rights_request.kind == Kind.ACCESS:
            access = export.access_page_context(
                handlers.access_copy(request=rights_request, actor=self.request.user)
            )
        context.update(
            rights_request=rights_request,
            steps=rights_request.events.exclude(
                action__in=[RequestEvent.Action.NOTE, RequestEvent.Action.LETTER]
            ),
            access=access,
            downloadable=answered and rights_request.kind in (Kind.ACCESS, Kind.PORTABILITY),
            cnil=CNIL,
        )
        return context


class RequestDownloadView(MemberRequiredMixin, View):
    """The copy of an answered access or portability request, built now; each download is
    audited (it holds the NIR and the IBAN in clear)."""

    def get(self, request, pk):
        rights_request = get_object_or_404(RightsRequest.objects.visible_to(request.user), pk=pk)
        try:
            filename, content, content_type = handlers.export_file(
                request=rights_request, actor=request.user
            )
        except services.RightsError:
            messages.error(request, "Aucune copie n'est attachée à cette demande.")
            return redirect(reverse("portal:rights_request", args=[pk]))
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
