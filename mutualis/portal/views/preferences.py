"""« Mes préférences »: communication choices per topic and channel (policy sections 1-C, 5, 6).

One form holds one box per topic and channel, showing the current state; saving it grants or
withdraws only what changed, so withdrawing is exactly as easy as granting (GDPR art. 7(3)). A
separate one-click button records an objection to all direct marketing (art. 21(2)). Each
topic shows the exact notice the member agrees to, in its version; the form sends back which
version it showed, and a grant records that one. The page also lists the member's own choices
as recorded, the proof the mutuelle keeps, each with its receipt.

The person is always the logged-in member's: no form here takes an id.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse, reverse_lazy
from django.views.generic import FormView, View

from mutualis.consent import notices, services
from mutualis.consent.models import (
    MARKETING_TOPICS,
    TOPIC_HELP,
    Channel,
    ConsentEvent,
    ConsentNotice,
    MarketingObjection,
    Source,
    Topic,
)
from mutualis.portal.access import MemberRequiredMixin

HISTORY_PAGE_SIZE = 25


def field_name(topic: str, channel: str) -> str:
    return f"{topic}_{channel}"


def notice_field(topic: str) -> str:
    return f"mention_{topic}"


@dataclass
class TopicGroup:
    topic: Topic
    help: str
    marketing: bool
    notice: ConsentNotice
    notice_field: forms.BoundField
    fields: list[forms.BoundField]


class PreferencesForm(forms.Form):
    """One checkbox per topic and channel, and the version of each topic's notice shown (hidden);
    unknown keys in the POST are ignored."""

    def __init__(self, *args, current: dict[tuple[str, str], bool], **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.notices = notices.current_notices()
        for topic in Topic:
            self.fields[notice_field(topic)] = forms.IntegerField(
                required=False,
                min_value=1,
                max_value=2**63 - 1,  # a larger number fits no key (nor the database's integer)
                widget=forms.HiddenInput,
                initial=self.notices[topic.value].pk,
            )
            for channel in Channel:
                self.fields[field_name(topic, channel)] = forms.BooleanField(
                    label=channel.label,
                    required=False,
                    initial=current[(topic.value, channel.value)],
                )

    def clean(self):
        data = super().clean()
        for topic in Topic:
            if self.errors.get(notice_field(topic)):
                # A tampered hidden field: the version in force is what the page showed.
                del self.errors[notice_field(topic)]
                data[notice_field(topic)] = None
        return data

    def shown(self) -> dict[str, ConsentNotice]:
        """The version of each topic's notice the page showed (the one in force if the form
        says something else)."""
        posted = {topic.value: self.cleaned_data.get(notice_field(topic)) for topic in Topic}
        found = ConsentNotice.objects.in_bulk([pk for pk in posted.values() if pk])
        shown = {}
        for topic, pk in posted.items():
            notice = found.get(pk)
            ok = notice is not None and notice.topic == topic
            shown[topic] = notice if ok else self.notices[topic]
        return shown

    def groups(self) -> list[TopicGroup]:
        return [
            TopicGroup(
                topic=topic,
                help=TOPIC_HELP[topic],
                marketing=topic in MARKETING_TOPICS,
                notice=self.notices[topic.value],
                notice_field=self[notice_field(topic)],
                fields=[self[field_name(topic, channel)] for channel in Channel],
            )
            for topic in Topic
        ]

    def choices(self) -> dict[tuple[str, str], bool]:
        return {
            (topic.value, channel.value): bool(self.cleaned_data[field_name(topic, channel)])
            for topic in Topic
            for channel in Channel
        }


class PreferencesView(MemberRequiredMixin, FormView):
    form_class = PreferencesForm
    template_name = "portal/preferences/preferences.html"
    success_url = reverse_lazy("portal:preferences")

    def get_form_kwargs(self) -> dict:
        return {
            **super().get_form_kwargs(),
            "current": services.current_preferences(self.member.person),
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        person = self.member.person
        history = ConsentEvent.objects.filter(person=person).order_by("-at")
        context.update(
            objection=MarketingObjection.objects.in_force().filter(person=person).first(),
            objections=MarketingObjection.objects.filter(person=person).order_by("-at"),
            history=Paginator(history, HISTORY_PAGE_SIZE).get_page(self.request.GET.get("page")),
        )
        return context

    def form_valid(self, form: PreferencesForm) -> HttpResponse:
        events = services.set_preferences(
            person=self.member.person,
            choices=form.choices(),
            source=Source.MEMBER_SPACE,
            actor=self.request.user,
            shown=form.shown(),
        )
        if events:
            messages.success(self.request, "Vos préférences de communication sont enregistrées.")
        else:
            messages.info(self.request, "Aucune modification : vos préférences sont inchangées.")
        return super().form_valid(form)


class ObjectToMarketingView(MemberRequiredMixin, View):
    """One click, no reason asked, applied at once (GDPR art. 21(2))."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs) -> HttpResponse:
        services.object_to_marketing(
            person=self.member.person, source=Source.MEMBER_SPACE, actor=request.user
        )
        messages.success(
            request,
            "Votre opposition est enregistrée : vous ne recevrez plus aucune prospection de la "
            "mutuelle, quel que soit le canal. Cela prend effet immédiatement.",
        )
        return HttpResponseRedirect(reverse("portal:preferences"))
