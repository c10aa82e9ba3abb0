"""The world the generated suites request pages in: the personas, one verified staff account
per role of the role table, and the objects the pages' cases build (``mutualis.lib.pages``).

alice's record carries a recognisable value in each category of data, so that a page can be
checked to show no category the declaration does not grant the viewer's service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from conftest import PASSWORD
from mutualis.backoffice.testing import give_device, login_verified
from mutualis.billing.models import Mandate
from mutualis.lib.pages import Case, Exemption, registry
from mutualis.members import roles
from mutualis.members.models import User, UserKind
from mutualis.members.validators import mask_iban, mask_nir
from mutualis.privacy import catalogue

CONTACT_MARKER = "7 rue Marqueur-Coordonnées"
ADMINISTRATIVE_MARKER = "CPAM Marqueur-Administratif"
ROLES = tuple(roles.ROLE_PERMISSIONS)


@dataclass(frozen=True)
class Route:
    """One pattern of the resolver, by its namespaced name."""

    name: str
    pattern: str
    callback: Callable

    @property
    def face(self) -> str:
        return self.name.split(":", 1)[0]


def routes() -> list[Route]:
    """Every URL pattern of the project, walked from the root resolver."""

    def walk(patterns, prefix: str, namespace: str) -> Iterator[Route]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}{pattern.name}" if pattern.name else ""
                yield Route(name, prefix + str(pattern.pattern), pattern.callback)

    return list(walk(get_resolver().url_patterns, "/", ""))


def attribute(callback: Callable, name: str, default: Any = None) -> Any:
    """An attribute set by ``staff_view`` on the view, through the decorators around it."""
    while callback is not None:
        if hasattr(callback, name):
            return getattr(callback, name)
        callback = getattr(callback, "__wrapped__", None) or getattr(callback, "view_class", None)
    return default


def cases() -> dict[str, Case]:
    return {name: entry for name, entry in registry().items() if isinstance(entry, Case)}


def exemptions() -> dict[str, Exemption]:
    return {name: entry for name, entry in registry().items() if isinstance(entry, Exemption)}


class World:
    def __init__(self, alice, dave, bob, charlie) -> None:
        self.alice, self.dave, self.bob, self.charlie = alice, dave, bob, charlie
        self._made: dict = {}
        self._staff = {"dpo": bob, "relation_adherent": charlie}
        person = alice.person
        person.address_line1 = CONTACT_MARKER
        person.scheme_organisation = ADMINISTRATIVE_MARKER
        person.save()

    def get(self, key, factory: Callable[[World], Any]) -> Any:
        if key not in self._made:
            self._made[key] = factory(self)
        return self._made[key]

    def staff(self, role: str) -> User:
        """The staff account of ``role`` that requests pages."""
        if role not in self._staff:
            self._staff[role] = self._new_staff(role, f"{role.replace('_', '-')}@suite.example")
        return self._staff[role]

    def target(self, role: str) -> User:
        """A staff account that the staff-administration pages act on (never a requester)."""
        return self.get(
            ("target", role), lambda w: self._new_staff(role, f"cible-{role}@suite.example")
        )

    @property
    def second_admin(self) -> User:
        return self.get("second_admin", lambda w: self._new_staff("admin", "admin-2@suite.example"))

    def _new_staff(self, role: str, email: str) -> User:
        user = User.objects.create_user(
            email=email, password=PASSWORD, kind=UserKind.STAFF, role=role, display_name=email
        )
        give_device(user)
        return user

    # --- Clients --------------------------------------------------------------------------
    def client_as(self, who: str, *, reauthenticated: bool = True, **options) -> Client:
        """A fresh client: ``anonymous``, ``member`` (alice), or a role of the role table."""
        client = Client(**options)
        if who == "member":
            client.force_login(self.alice.account)
        elif who != "anonymous":
            login_verified(client, self.staff(who), reauthenticated=reauthenticated)
        return client

    def url(self, case: Case, *, owner=None) -> str:
        if case.owned is not None:
            return reverse(case.name, kwargs=case.owned(owner or self.alice, self))
        return reverse(case.name, kwargs=case.kwargs(self) if case.kwargs else None)

    # --- What each category of alice's data looks like on a page ------------------------------
    def markers(self) -> dict[str, list[str]]:
        from mutualis.contact.testing import COMPLAINT_MARKER, CORRESPONDENCE_MARKER
        from mutualis.rights.testing import RIGHTS_MARKER

        person = self.alice.person
        ibans = [m.iban for m in Mandate.objects.filter(member=self.alice)]
        return {
            catalogue.CONTACT.code: [CONTACT_MARKER],
            catalogue.ADMINISTRATIVE.code: [
                ADMINISTRATIVE_MARKER,
                person.nir,
                mask_nir(person.nir),
            ],
            catalogue.BANK.code: [*ibans, *(mask_iban(iban) for iban in ibans)],
            catalogue.CONTRACT_DATA.code: [c.number for c in self.alice.contracts.all()],
            catalogue.CORRESPONDENCE.code: [CORRESPONDENCE_MARKER],
            catalogue.COMPLAINT.code: [COMPLAINT_MARKER],
            catalogue.RIGHTS_REQUEST.code: [RIGHTS_MARKER],
        }


# --- Objects the pages name, each built once per world through the services ------------------
# (alice is the person concerned wherever one is; the DPO or the service's staff acts.)
LETTER_PDF = b"%PDF-1.4\n% courrier de l'adherente, numerise\n%%EOF\n"


def consent_event(world: World, member):
    """The member's own consent to the newsletter by e-mail, given in the member space: the
    event a consent receipt shows (one grant per member)."""
    from mutualis.consent import services

    return world.get(
        ("consent", member.pk),
        lambda w: services.grant(
            person=member.person,
            topic="newsletter",
            channel="email",
            source="member_space",
            actor=member.account,
        ),
    )


def letter_consent(world: World):
    """alice's consent to letters, recorded by the member relations service from her letter,
    with its scan (the document a choice rests on)."""
    from mutualis.consent import notices, services

    return world.get(
        "letter_consent",
        lambda w: services.record_for_person(
            person=w.alice.person,
            topic="newsletter",
            channel="post",
            granted=True,
            source="letter",
            actor=w.charlie,
            notice=notices.current_notice("newsletter"),
            document=services.Document("lettre.pdf", LETTER_PDF, "application/pdf"),
        ),
    )


# What each state is made of; a state named after an act ("to_cancel") is a campaign of its
# own, so that the act done by one suite leaves every other page's campaign as it was.
CAMPAIGN_STATES = {
    "draft": "draft",
    "to_send": "draft",
    "to_cancel": "draft",
    "sending": "sending",
    "to_pause": "sending",
    "paused": "paused",
    "post_sending": "post_sending",
    "post_handed": "post_handed",
}


def campaign(world: World, state: str):
    """A newsletter: a draft, being sent by e-mail (to alice), paused, by post and not yet
    handed to the printer, or handed over (the printer's files ready)."""
    # All at once: an act of a suite (an unsubscription) cannot empty the audience of a
    # campaign built after it.
    every = world.get(
        "campaigns", lambda w: {n: _campaign(w, n, s) for n, s in CAMPAIGN_STATES.items()}
    )
    return every[state]


def _campaign(world: World, name: str, state: str):
    from mutualis.consent import campaigns, postal

    actor = world.staff("communication")
    by_post = state.startswith("post")
    made = campaigns.create_campaign(
        title=f"Lettre d'information ({name})",
        kind="newsletter",
        channel="post" if by_post else "email",
        subject="Nos nouvelles",
        body="Bonjour {prenom},\n\nVoici nos nouvelles.",
        actor=actor,
    )
    if state == "draft":
        return made
    if by_post:
        letter_consent(world)
    else:
        consent_event(world, world.alice)
    made = campaigns.start_sending(campaign=made, actor=actor)
    if state == "paused":
        made = campaigns.pause(campaign=made, actor=actor)
    if state == "post_handed":
        postal.hand_to_printer(campaign=made, actor=actor)
        postal.hand_over(made)
    made.refresh_from_db()
    return made


def unsubscribe_token(world: World) -> str:
    """The unsubscribe link's token of alice's message of the campaign being sent."""
    from mutualis.consent import unsubscribe

    delivery = campaign(world, "sending").deliveries.get(person=world.alice.person)
    return unsubscribe.token_for(delivery.pk)


REQUISITION_STATES = {
    "received": "received",
    "approved": "approved",
    "exported": "exported",
    "to_deliver": "exported",
    "secret": "secret",
}


def requisition(world: World, state: str):
    """A judicial requisition about alice: received, approved by the DPO, exported (its archive
    ready to download), or exported under secrecy (alice not told yet). A state named after
    an act ("to_deliver") is a requisition of its own."""
    return world.get(
        ("requisition", state), lambda w: _requisition(w, state, REQUISITION_STATES[state])
    )


def authority(world: World):
    from mutualis.recipients.testing import make_authority

    return world.get("authority", lambda w: make_authority())


def _requisition(world: World, name: str, state: str):
    import datetime

    from django.utils import timezone

    from mutualis.recipients import requisitions
    from mutualis.rights.export import build_access_export

    today = timezone.localdate()
    secret = state == "secret"
    made = requisitions.register(
        organisation=authority(world),
        legal_basis="C. procédure pénale art. 60-1",
        reference=f"PV 2026/{list(REQUISITION_STATES).index(name) + 1}",
        received_on=today,
        deadline=today + datetime.timedelta(days=10),
        people=[world.alice.person],
        categories=["identity"],
        forbids_notice=secret,
        secrecy_ground="C. procédure pénale art. 11" if secret else "",
        actor=world.bob,
    )
    if state == "received":
        return made
    requisitions.decide(
        requisition=made,
        approve=True,
        reasons="Réquisition régulière, périmètre limité.",
        actor=world.bob,
    )
    if state != "approved":
        requisitions.export(requisition=made, read_copy=build_access_export, actor=world.bob)
    made.refresh_from_db()
    return made


def authority_letter(world: World):
    """An art. 19 letter to the authority, to post: alice's identity, which it received by the
    exported requisition, was rectified."""

    def build(w: World):
        from django.db import transaction

        from mutualis.recipients import notices
        from mutualis.recipients.models import NoticeCause

        requisition(w, "exported")
        with transaction.atomic():
            (letter,) = notices.notify(
                subject_id=str(w.alice.person_id),
                categories=["identity"],
                cause=NoticeCause.RECTIFICATION,
                source="suite",
                actor=w.bob,
            )
        return letter

    return world.get("authority_letter", build)


PHARMACIES = {"pharmacy": "75000001", "to_suspend": "75000002"}


def pharmacy(world: World, purpose: str = "pharmacy"):
    """A pharmacy using the API; ``to_suspend`` is one of its own, for the act that suspends."""
    from mutualis.recipients.testing import make_pharmacy

    return world.get(
        ("pharmacy", purpose),
        lambda w: make_pharmacy(
            name=f"Pharmacie {purpose.replace('_', ' ')}", first_eight=PHARMACIES[purpose]
        ),
    )


def credential(world: World, purpose: str):
    """One of the pharmacy's API keys, one per ``purpose`` (to rotate, to revoke...), so that
    an act on one leaves the others as they were."""
    from mutualis.recipients import services
    from mutualis.recipients.testing import ALL_SCOPES

    return world.get(
        ("credential", purpose),
        lambda w: services.issue_key(
            organisation=pharmacy(w), scopes=ALL_SCOPES, label=purpose, actor=w.bob
        )[0],
    )


def rejected_exchange_line(world: World):
    """A line of the scheme's affiliation file that the scheme rejected, to resolve."""

    def build(w: World):
        import tempfile
        from pathlib import Path

        from django.utils import timezone

        from mutualis.recipients.exchange import acknowledgement, inbound, outbound
        from mutualis.recipients.testing import make_scheme

        scheme = make_scheme()
        with tempfile.TemporaryDirectory() as directory:
            sent = outbound.run(scheme, as_of=timezone.localdate(), directory=Path(directory))
            ack = acknowledgement.acknowledge(
                sent.path, Path(directory) / "ack.txt", rejected={1: "001"}
            )
            inbound.import_acknowledgement(ack)
        return scheme.exchanges.get().lines.get(number=1)

    return world.get("rejected_line", build)
