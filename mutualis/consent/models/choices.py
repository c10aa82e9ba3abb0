"""Communication preferences, the consent records that prove them, and marketing objections.

Policy section 1-C ("vous êtes libre à tout moment de choisir les communications que vous
souhaitez recevoir") and section 6 (withdrawal, not retroactive):

- :class:`ConsentEvent` is the proof: an append-only history of every choice a person made (or
  that was recorded for them), per topic and channel, with when, how (source), who recorded it
  and — for a grant — the exact version of the notice that was shown
  (:class:`~mutualis.consent.models.notices.ConsentNotice`). A row is never changed; a
  withdrawal is a new row (GDPR art. 7(1), 7(3)).
- :class:`Preference` is the current state, one row per person, topic and channel: the latest
  event, denormalised in the same transaction as the event, so that a marketing selection over
  millions of people is one indexed join.
- :class:`MarketingObjection` is the objection to direct marketing (GDPR art. 21(2) and (3);
  policy section 5, right 4): absolute, applied at once, no staff step. At most one is in force
  per person; a lifted one stays as history.

Consent rows go with their person (``CASCADE``): they are kept as long as the person is, which is
as long as the mutuelle may still have to prove a consent it relied on.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class Topic(models.TextChoices):
    NEWSLETTER = "newsletter", "Informations et actualités de la mutuelle"
    OFFERS = "offers", "Offres et services de la mutuelle et de ses partenaires"
    SURVEYS = "surveys", "Enquêtes de satisfaction"


# Topics that are direct marketing (prospection): an objection under GDPR art. 21(2) withdraws
# them and excludes the person from every selection for them. A satisfaction survey without any
# commercial content is not prospection (CNIL); it stays governed by its own consent.
MARKETING_TOPICS: frozenset[str] = frozenset({Topic.NEWSLETTER, Topic.OFFERS})

TOPIC_HELP: dict[str, str] = {
    Topic.NEWSLETTER: "Lettre d'information, nouveautés de vos garanties, actions de prévention.",
    Topic.OFFERS: "Nouvelles formules, services et avantages proposés par la mutuelle ou ses "
    "partenaires.",
    Topic.SURVEYS: "Questionnaires sur la qualité de nos services, sans aucune offre commerciale.",
}


class Channel(models.TextChoices):
    EMAIL = "email", "Par courriel"
    POST = "post", "Par courrier"
    SMS = "sms", "Par SMS"


# The field of members.Person a channel needs: nobody is selected for a channel they cannot be
# reached on.
CHANNEL_ADDRESS_FIELD: dict[str, str] = {
    Channel.EMAIL: "email",
    Channel.POST: "address_line1",
    Channel.SMS: "phone_mobile",
}


class Action(models.TextChoices):
    GRANTED = "granted", "Accord donné"
    WITHDRAWN = "withdrawn", "Accord retiré"


class Source(models.TextChoices):
    """How a choice reached the mutuelle: part of the proof (GDPR art. 7(1))."""

    MEMBER_SPACE = "member_space", "Espace adhérent"
    SUBSCRIPTION = "subscription", "Formulaire d'adhésion"
    PHONE = "phone", "Appel téléphonique (conseiller)"
    LETTER = "letter", "Courrier reçu"
    EMAIL = "email", "Courriel reçu"
    IN_PERSON = "in_person", "Accueil"
    UNSUBSCRIBE_LINK = "unsubscribe_link", "Lien de désinscription"
    RIGHTS_REQUEST = "rights_request", "Demande d'exercice de droits"
    IMPORT = "import", "Reprise de données"


# Sources that are a member of staff writing down what the person said or sent: the proof is
# the document received (a letter, a form) or the note of the call, kept with the event.
STAFF_SOURCES: frozenset[str] = frozenset(
    {Source.PHONE, Source.LETTER, Source.EMAIL, Source.IN_PERSON}
)


class AppendOnly(Exception):
    """A consent event was about to be changed: the history is proof and is never rewritten."""


class ConsentEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("consent events are append-only")


class ConsentEvent(models.Model):
    """One choice: granted or withdrawn, for one topic on one channel (append-only)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        "members.Person", on_delete=models.CASCADE, related_name="consent_events"
    )
    topic = models.CharField("communication", max_length=20, choices=Topic.choices)
    channel = models.CharField("canal", max_length=10, choices=Channel.choices)
    action = models.CharField("choix", max_length=10, choices=Action.choices)
    at = models.DateTimeField("date", default=timezone.now, db_index=True)
    source = models.CharField("origine", max_length=20, choices=Source.choices)
    # Who recorded it: the member's own account, a staff account, or "system" (audit actor form).
    actor = models.CharField("enregistré par", max_length=100)
    # The exact text shown when the consent was asked (grants; a withdrawal needs none).
    notice = models.ForeignKey(
        "consent.ConsentNotice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="mention présentée",
    )

    objects = ConsentEventQuerySet.as_manager()

    class Meta:
        verbose_name = "choix de communication"
        verbose_name_plural = "historique des choix de communication"
        ordering = ["-at"]
        indexes = [models.Index(fields=["person", "-at"], name="consent_event_person_at")]

    def __str__(self) -> str:
        return f"{self.get_topic_display()} — {self.get_channel_display()} — " + (
            self.get_action_display()
        )

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnly("consent events are append-only: record a new event instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        # Rows go only with their person (retention, erasure), through a cascade.
        raise AppendOnly("consent events are deleted only with their person")


class Preference(models.Model):
    """The current state of one topic on one channel for one person: its latest event."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        "members.Person", on_delete=models.CASCADE, related_name="consent_preferences"
    )
    topic = models.CharField("communication", max_length=20, choices=Topic.choices)
    channel = models.CharField("canal", max_length=10, choices=Channel.choices)
    granted = models.BooleanField("accord en cours")
    since = models.DateTimeField("depuis le")
    event = models.ForeignKey(
        ConsentEvent, on_delete=models.CASCADE, related_name="+", verbose_name="dernier choix"
    )

    class Meta:
        verbose_name = "préférence de communication"
        verbose_name_plural = "préférences de communication"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "topic", "channel"], name="consent_preference_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["topic", "channel"],
                condition=models.Q(granted=True),
                name="consent_pref_granted",
            )
        ]

    def __str__(self) -> str:
        state = "oui" if self.granted else "non"
        return f"{self.get_topic_display()} — {self.get_channel_display()} : {state}"


class MarketingObjectionQuerySet(models.QuerySet):
    def in_force(self) -> MarketingObjectionQuerySet:
        return self.filter(lifted_at__isnull=True)


class MarketingObjection(models.Model):
    """An objection to direct marketing (GDPR art. 21(2)): in force until the person lifts it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        "members.Person", on_delete=models.CASCADE, related_name="marketing_objections"
    )
    at = models.DateTimeField("date", default=timezone.now)
    source = models.CharField("origine", max_length=20, choices=Source.choices)
    actor = models.CharField("enregistrée par", max_length=100)
    # Lifted only by the person's own explicit new consent in the member space.
    lifted_at = models.DateTimeField("levée le", null=True, blank=True)
    lifted_by = models.CharField("levée par", max_length=100, blank=True)

    objects = MarketingObjectionQuerySet.as_manager()

    class Meta:
        verbose_name = "opposition à la prospection"
        verbose_name_plural = "oppositions à la prospection"
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(lifted_at__isnull=True),
                name="consent_one_objection_in_force",
            )
        ]

    def __str__(self) -> str:
        return f"Opposition du {timezone.localtime(self.at):%d/%m/%Y}"

    @property
    def in_force(self) -> bool:
        return self.lifted_at is None
