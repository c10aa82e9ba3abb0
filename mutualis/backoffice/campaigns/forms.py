"""Forms of the communication service: a campaign, a notice, a choice recorded for a member.

None of them writes anything: the views hand their cleaned data to the consent services, which
hold the rules (and report refusals in French).
"""

from __future__ import annotations

from django import forms

from mutualis.consent.campaigns import PLACEHOLDERS
from mutualis.consent.models import (
    STAFF_SOURCES,
    CampaignKind,
    Channel,
    ConsentNotice,
    Source,
    Topic,
)
from mutualis.consent.models.campaigns import CAMPAIGN_CHANNELS
from mutualis.contact.forms import AttachmentField

REQUIRED = "Ce champ est obligatoire."


def _required(label: str, **kwargs):
    return {"label": label, "error_messages": {"required": REQUIRED}, **kwargs}


class CampaignForm(forms.Form):
    title = forms.CharField(
        **_required("Nom interne"),
        max_length=150,
        help_text="Pour vous y retrouver ; les destinataires ne le voient pas.",
    )
    kind = forms.ChoiceField(
        **_required("Nature"),
        choices=CampaignKind.choices,
        help_text="Une lettre, des offres ou une enquête ne partent qu'aux personnes qui les ont "
        "acceptées ; une information de service, aux adhérents dont le contrat est en cours.",
    )
    channel = forms.ChoiceField(
        **_required("Canal"), choices=[(c.value, c.label) for c in CAMPAIGN_CHANNELS]
    )
    subject = forms.CharField(**_required("Objet"), max_length=200)
    body = forms.CharField(
        **_required("Texte"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Une ligne vide sépare deux paragraphes. Champs de fusion : "
        + ", ".join(f"{{{name}}} ({label})" for name, label in PLACEHOLDERS.items())
        + ". La raison de l'envoi et le lien de désinscription sont ajoutés à chaque message.",
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class NoticeForm(forms.Form):
    topic = forms.ChoiceField(**_required("Communication"), choices=Topic.choices)
    text = forms.CharField(
        **_required("Nouveau texte de la mention"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Ce que la personne accepte, clairement et distinctement, et comment retirer "
        "son accord. Les accords déjà donnés restent sous la version qui était en vigueur.",
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ChoiceRecordForm(forms.Form):
    """A choice a member said on the phone or in person, or sent by letter or e-mail."""

    topic = forms.ChoiceField(**_required("Communication"), choices=Topic.choices)
    channel = forms.ChoiceField(**_required("Canal"), choices=Channel.choices)
    granted = forms.TypedChoiceField(
        **_required("Choix"),
        choices=[("1", "Accord donné"), ("0", "Accord retiré")],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    source = forms.ChoiceField(
        **_required("Reçu"),
        choices=[(s.value, s.label) for s in Source if s.value in STAFF_SOURCES],
    )
    notice = forms.ModelChoiceField(
        label="Mention lue ou imprimée sur le formulaire (pour un accord)",
        queryset=ConsentNotice.objects.none(),
        required=False,
        empty_label="—",
        error_messages={"invalid_choice": "Choisissez une mention de la liste."},
    )
    note = forms.CharField(
        label="Note du conseiller",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Pour un appel : date, heure et ce que la personne a dit. N'y recopiez ni "
        "numéro de sécurité sociale ni IBAN.",
    )
    document = AttachmentField(
        label="Document reçu (obligatoire pour un courrier)",
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["notice"].queryset = ConsentNotice.objects.order_by("topic", "-version")
        self.fields["notice"].label_from_instance = lambda n: (
            f"{n.get_topic_display()} — version {n.version} du {n.published_at:%d/%m/%Y}"
        )

    def clean(self):
        data = super().clean()
        notice, topic = data.get("notice"), data.get("topic")
        if notice is not None and topic and notice.topic != topic:
            self.add_error("notice", "Cette mention concerne une autre communication.")
        return data
