"""One generated member at a time: the person, their household, contract, mandate and history."""

from __future__ import annotations

import datetime
import os
import random
import uuid

from django.utils import timezone

from mutualis.audit.bulk import BulkChain, BulkEvent
from mutualis.generate.writer import Writer

# Common French surnames and first names: enough of them that a name is not a tenth of the file.
LAST = """
Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel Lefebvre
Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent
Muller Lefevre Faure Andre Mercier Blanc Guerin Boyer Garnier Chevalier Francois Legrand Gauthier
Garcia Perrin Robin Clement Morin Nicolas Henry Roussel Mathieu Gautier Masson Marchand Duval
Denis Dumont Marie Lemaire Noel Meyer Dufour Meunier Brun Blanchard Giraud Joly Riviere Lucas
Brunet Gaillard Barbier Arnaud Martinez Gerard Roche Renard Schmitt Roy Leroux Colin Vidal
Caron Picard Roger Fabre Aubert Lemoine Renaud Dumas Lacroix Olivier Philippe Bourgeois Pierre
Benoit Rey Leclerc Payet Rolland Leclercq Guillaume Lecomte Lopez Jean Dupuy Guillot Hubert Berger
Carpentier Sanchez Dupuis Moulin Louis Deschamps Huet Vasseur Perez Boucher Fleury Royer Klein
Jacquet Adam Paris Poirier Marty Aubry Guyot Carre Charles Renault Charpentier Menard Maillard
Baron Bertin Bailly Herve Schneider Fernandez Gall Collet Leger Bouvier Julien Prevost Millet
Perrot Daniel Rouxel Cousin Germain Breton Besson Langlois Remy Goff Pelletier Leveque
""".split()
WOMEN = """
Camille Léa Manon Chloé Inès Sarah Julie Anne Claire Zoé Emma Jade Louise Alice Lina Rose
Anna Ambre Mia Léna Juliette Lou Agathe Romane Eva Margaux Clara Mathilde Lucie Élise Marie Sophie
Isabelle Nathalie Sandrine Valérie Céline Aurélie Émilie Hélène Martine Françoise Monique Sylvie
Catherine Christine Caroline Laure Pauline Morgane Océane Maëlle Noémie Salomé Héloïse Apolline
""".split()
MEN = """
Lucas Hugo Louis Gabriel Jules Arthur Paul Nicolas Marc Noé Léo Raphaël Adam Maël Tom Nathan
Ethan Sacha Théo Mathis Enzo Timéo Axel Victor Martin Antoine Maxime Thomas Alexandre Julien
Pierre Jean Philippe Michel Alain Patrick Éric Christophe Stéphane Laurent Olivier Frédéric
Sébastien David Vincent Guillaume Romain Florian Kévin Quentin Benjamin Clément Baptiste Damien
""".split()
CITIES = [("75011", "Paris"), ("69003", "Lyon"), ("13005", "Marseille"), ("33000", "Bordeaux")]
SUBJECTS = [
    "Remboursement optique",
    "Attestation de droits",
    "Changement d'adresse",
    "Question sur ma cotisation",
    "Tiers payant refusé",
    "Ajout d'un bénéficiaire",
]
STAFF_ROLES = ["gestion", "cotisations", "relation_adherent", "reclamations"]


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


class MemberBuilder:
    """Adds generated members to ``writer``; their audit events go to a :class:`BulkChain`.

    Members are added in chunks, each inside its own transaction: :meth:`begin` takes the chain
    head (held until the transaction ends) and :meth:`close` writes the chunk and moves the head.
    """

    def __init__(self, writer: Writer, rng: random.Random) -> None:
        from mutualis.billing.models import Mandate
        from mutualis.consent.models import ConsentEvent, Preference
        from mutualis.contact.models import Attachment, Complaint, Inquiry, Message
        from mutualis.contracts.models import Contract, Offer
        from mutualis.members.models import Beneficiary, Member, Person, User
        from mutualis.privacy.models import PolicyVersion
        from mutualis.rights.models import RightsRequest
        from mutualis.vault import services as vault
        from mutualis.vault.blind_index import blind_index
        from mutualis.vault.models import DataKey

        self.w, self.rng, self.vault, self.blind_index = writer, rng, vault, blind_index
        self.Person, self.Member, self.User, self.Beneficiary = Person, Member, User, Beneficiary
        self.Contract, self.Link = Contract, Contract.beneficiaries.through
        self.DataKey, self.Inquiry, self.Message = DataKey, Inquiry, Message
        self.Attachment, self.Complaint, self.Mandate = Attachment, Complaint, Mandate
        self.ConsentEvent, self.Preference, self.RightsRequest = (
            ConsentEvent,
            Preference,
            RightsRequest,
        )
        from mutualis.audit.models import Disclosure

        self.Disclosure = Disclosure
        self.now = timezone.now()
        # Older events would be gone already: the audit log keeps a year (active + archive).
        self.audit_horizon = self.now - datetime.timedelta(days=330)
        self.offers = list(Offer.objects.values_list("pk", flat=True))
        self.policy = PolicyVersion.objects.values_list("pk", flat=True).first()
        self.nir_field = Person._meta.get_field("nir")
        self.birth_field = Person._meta.get_field("birth_date")
        self.iban_field = Mandate._meta.get_field("iban")
        self.staff = self._staff()
        # Unique values already taken (a development database may hold the demo, or an
        # earlier generation): new ones are drawn until they are free.
        self.nir_indexes = set(
            Person.objects.exclude(nir_index=None).values_list("nir_index", flat=True)
        )
        self.numbers = set(Member.objects.values_list("number", flat=True))
        self.contracts = set(Contract.objects.values_list("number", flat=True))
        self.inquiry_refs = set(Inquiry.objects.values_list("reference", flat=True))
        self.rights_refs = set(RightsRequest.objects.values_list("reference", flat=True))
        self.counter = rng.randrange(16**8)
        writer.explicit_keys.add(User)
        self.next_user = 0
        self.chain: BulkChain | None = None

    def _staff(self) -> list[int]:
        from mutualis.members.models import User, UserKind

        ids = []
        for i, role in enumerate(STAFF_ROLES):
            user = User.objects.filter(email=f"agent{i}@mutuelle.example").first()
            if user is None:
                user = User.objects.create_user(
                    email=f"agent{i}@mutuelle.example",
                    kind=UserKind.STAFF,
                    role=role,
                    display_name=f"Agent {i}",
                )
            ids.append(user.pk)
        return ids

    def begin(self) -> None:
        """Start a chunk, inside its transaction: take the chain head, the next free keys."""
        self.chain = BulkChain()
        self.next_user = max(self.next_user, self.w.next_id(self.User))

    def flush(self) -> None:
        assert self.chain is not None, "begin() first"
        self.chain.flush()  # events first: disclosures refer to them
        self.w.flush()

    def close(self) -> None:
        """End the chunk: write what is pending, move the chain head and the sequences."""
        assert self.chain is not None, "begin() first"
        self.flush()
        self.chain.close()
        self.chain = None
        self.w.reset_sequences()

    # --- Helpers ------------------------------------------------------------------------
    def moment(self, days_back: int) -> datetime.datetime:
        return self.now - datetime.timedelta(days=days_back, seconds=self.rng.randint(0, 86_399))

    def seal(self, field, key, pk: uuid.UUID, value) -> bytes:
        return self.vault.encrypt_for(key, field.encode(value), field.aad(str(pk)))

    def event(self, tag: str, subject: uuid.UUID, at: datetime.datetime, actor: str = "system"):
        """The audit event of a generated act; None for one the log's retention has pruned."""
        if at < self.audit_horizon:
            return None
        assert self.chain is not None, "begin() first"
        return self.chain.add(BulkEvent(at=at, tag=tag, actor=actor, subject_id=str(subject)))

    def _unique(self, taken: set[str], draw) -> str:
        value = draw()
        while value in taken:
            value = draw()
        taken.add(value)
        return value

    def reference(self, prefix: str, taken: set[str]) -> str:
        """A reference in the models' form, from a counter (random ones would collide)."""
        while True:
            self.counter = (self.counter + 1) % 16**8
            reference = f"{prefix}{self.now:%y}-{self.counter:08X}"
            if reference not in taken:
                return reference

    # --- A member and their household ---------------------------------------------------
    def person(self, *, woman: bool, last: str, birth, holder=None, contact=True, nir=True):
        from mutualis.members.testing import make_nir

        civility = "MME" if woman else "M"
        number = index = None
        if nir:
            while True:
                number = make_nir(civility=civility, birth_date=birth, rng=self.rng)
                index = self.blind_index(number, purpose="nir")
                if index not in self.nir_indexes:
                    self.nir_indexes.add(index)
                    break
        key = self.vault.build_data_key()
        self.w.add(
            self.DataKey,
            id=key.id,
            wrapped_key=key.wrapped_key,
            master_key_id=key.master_key_id,
            created_at=self.now,
        )
        pk = uuid.uuid4()
        first = self.rng.choice(WOMEN if woman else MEN)
        postal_code, city = self.rng.choice(CITIES)
        self.w.add(
            self.Person,
            id=pk,
            data_key_id=key.id,
            civility=civility,
            last_name=last,
            first_names=first,
            birth_date=self.seal(self.birth_field, key, pk, birth),
            address_line1=f"{self.rng.randint(1, 120)} rue de la République" if contact else "",
            postal_code=postal_code if contact else "",
            city=city if contact else "",
            email=f"{first.lower()}.{last.lower()}.{pk.hex[:8]}@example.org" if contact else "",
            phone_mobile=f"06{self.rng.randint(10**7, 10**8 - 1)}" if contact else "",
            nir=self.seal(self.nir_field, key, pk, number) if nir else None,
            nir_index=index,
            nir_holder_id=holder,
            scheme_regime="01",
            scheme_caisse="751",
            scheme_centre="0001",
            scheme_organisation="CPAM de Paris",
            created_at=self.now,
            updated_at=self.now,
        )
        return pk, key

    def member(self) -> None:
        from mutualis.members.testing import make_french_iban

        rng = self.rng
        woman = rng.random() < 0.5
        last = rng.choice(LAST)
        birth = datetime.date(rng.randint(1950, 2000), rng.randint(1, 12), rng.randint(1, 28))
        person, key = self.person(woman=woman, last=last, birth=birth)
        joined = self.moment(rng.randint(400, 3000))
        for tag in (
            "members:person:create",
            "members:member:create",
            "billing:mandate:create",
            "contracts:contract:create",
        ):
            self.event(tag, person, joined)
        number = self._unique(self.numbers, lambda: f"A{rng.randrange(10**9):09d}")
        account = None
        if rng.random() < 0.7:
            account = self.next_user
            self.next_user += 1
            self.w.add(
                self.User,
                id=account,
                password="!unusable",  # noqa: S106 - an unusable hash, no password
                email=f"{number.lower()}@example.org",
                kind="member",
                date_joined=joined,
                last_login=self.moment(3),
                is_active=True,
            )
            for _ in range(rng.randint(5, 40)):
                self.event(
                    "members:account:login",
                    person,
                    self.moment(rng.randint(0, 1000)),
                    f"user:{account}",
                )
        member = uuid.uuid4()
        self.w.add(
            self.Member,
            id=member,
            person_id=person,
            number=number,
            account_id=account,
            joined_at=joined,
        )
        beneficiaries = self.household(member, person, last, birth, joined)
        self.contract(member, beneficiaries, joined)
        mandate = uuid.uuid4()
        self.w.add(
            self.Mandate,
            id=mandate,
            member_id=member,
            data_key_id=key.id,
            reference=f"RUM-GEN-{mandate.hex[:24].upper()}",
            creditor_identifier="FR72ZZZ123456",
            debtor_name=last,
            iban=self.seal(self.iban_field, key, mandate, make_french_iban(rng)),
            bic="",
            signed_at=joined,
            signed_place="Paris",
        )
        self.correspondence(person)
        self.consents(person, joined)
        if rng.random() < 0.1:
            event = self.event("audit:disclosure:create", person, self.moment(rng.randint(0, 300)))
            self.w.add(
                self.Disclosure,
                at=self.moment(1),
                recipient="mandatory_schemes",
                subject_id=str(person),
                categories=["administrative", "identity"],
                reason="Échange d'affiliation avec le régime obligatoire",
                actor="system",
                event_id=event,
            )
        if rng.random() < 0.01:
            received = self.moment(20)
            self.w.add(
                self.RightsRequest,
                id=uuid.uuid4(),
                reference=self.reference("DR", self.rights_refs),
                kind="access",
                person_id=person,
                subject_id=str(person),
                channel="member_space",
                received_at=received,
                due_date=(received + datetime.timedelta(days=30)).date(),
                status="closed",
                details={},
            )
            self.event("rights:request:create", person, received, f"user:{account or 0}")

    def household(self, member, person, last, birth, joined) -> list[uuid.UUID]:
        rng = self.rng
        beneficiaries = []
        for role, count in (
            ("spouse", int(rng.random() < 0.35)),
            ("child", rng.choice([0, 0, 1, 2])),
        ):
            for _ in range(count):
                child = role == "child"
                born = (
                    datetime.date(rng.randint(2005, 2024), rng.randint(1, 12), 15)
                    if child
                    else birth
                )
                attached = child and rng.random() < 0.6  # covered under the member's NIR
                pk, _key = self.person(
                    woman=rng.random() < 0.5,
                    last=last,
                    birth=born,
                    holder=person if attached else None,
                    nir=not attached,
                    contact=False,
                )
                beneficiary = uuid.uuid4()
                self.w.add(
                    self.Beneficiary,
                    id=beneficiary,
                    member_id=member,
                    person_id=pk,
                    role=role,
                    added_at=joined,
                )
                self.event("members:beneficiary:create", pk, joined)
                beneficiaries.append(beneficiary)
        return beneficiaries

    def contract(self, member, beneficiaries, joined) -> None:
        rng = self.rng
        periods = [(joined.date(), None)]
        ended = joined.date() - datetime.timedelta(days=1)
        if rng.random() < 0.1 and (self.now.date() - ended).days < 4 * 365:
            # An earlier contract, ended: in the intermediate archive since its end, as the
            # retention engine leaves it (deleted five years after).
            periods.append((ended - datetime.timedelta(days=900), ended))
        for start, end in periods:
            contract = uuid.uuid4()
            self.w.add(
                self.Contract,
                id=contract,
                number=self._unique(self.contracts, lambda: f"C{rng.randrange(10**9):09d}"),
                member_id=member,
                offer_id=rng.choice(self.offers),
                start_date=start,
                end_date=end,
                cgu_version="2026-01",
                policy_version_id=self.policy,
                accepted_at=joined,
                archived_at=None if end is None else _midnight(end) + datetime.timedelta(days=1),
            )
            for beneficiary in beneficiaries:
                self.w.add(self.Link, contract_id=contract, beneficiary_id=beneficiary)

    def correspondence(self, person: uuid.UUID) -> None:
        rng = self.rng
        for _ in range(rng.choice([0, 1, 2, 3, 3, 4, 5, 6])):
            inquiry = uuid.uuid4()
            received = self.moment(rng.randint(0, 1000))
            self.w.add(
                self.Inquiry,
                id=inquiry,
                reference=self.reference("D", self.inquiry_refs),
                channel="member_space",
                subject=rng.choice(SUBJECTS),
                person_id=person,
                service="relation_adherent",
                status="closed",
                received_at=received,
                answer_due=received.date(),
                last_contact_at=received,
                closed_at=received,
            )
            self.event("contact:inquiry:create", person, received)
            for m in range(rng.randint(1, 4)):
                inbound = m % 2 == 0
                message = uuid.uuid4()
                self.w.add(
                    self.Message,
                    id=message,
                    inquiry_id=inquiry,
                    direction="in" if inbound else "out",
                    channel="member_space",
                    at=received + datetime.timedelta(days=m),
                    author_id=None if inbound else rng.choice(self.staff),
                    sender="",
                    body="Bonjour, "
                    + "je vous écris au sujet de mon dossier. " * rng.randint(2, 12),
                    source_id=None,
                )
                if not inbound:
                    self.event("contact:message:send", person, received, f"user:{self.staff[2]}")
                if inbound and rng.random() < 0.1:
                    self.w.add(
                        self.Attachment,
                        id=uuid.uuid4(),
                        message_id=message,
                        filename="ordonnance.pdf",
                        content_type="application/pdf",
                        size=2048,
                        content=os.urandom(2048),
                    )
            if rng.random() < 0.05:  # acknowledged and answered within the ACPR deadlines
                self.w.add(
                    self.Complaint,
                    inquiry_id=inquiry,
                    qualified_at=received,
                    received_on=received.date(),
                    complainant_type="member",
                    reason="Délai de remboursement",
                    acknowledgement_due=(received + datetime.timedelta(days=14)).date(),
                    answer_due=(received + datetime.timedelta(days=60)).date(),
                    acknowledged_at=received + datetime.timedelta(days=2),
                    answered_at=received + datetime.timedelta(days=12),
                    outcome="upheld",
                    closed_at=received + datetime.timedelta(days=12),
                    archived_at=received + datetime.timedelta(days=12),  # archived once closed
                    mediation=False,
                )

    def consents(self, person: uuid.UUID, joined: datetime.datetime) -> None:
        for topic in self.rng.sample(["newsletter", "offers", "surveys"], self.rng.randint(0, 3)):
            event = uuid.uuid4()
            self.w.add(
                self.ConsentEvent,
                id=event,
                person_id=person,
                topic=topic,
                channel="email",
                action="granted",
                at=joined,
                source="subscription",
                actor="system",
                wording="J'accepte de recevoir les communications de la mutuelle par courriel.",
            )
            self.w.add(
                self.Preference,
                id=uuid.uuid4(),
                person_id=person,
                topic=topic,
                channel="email",
                granted=True,
                since=joined,
                event_id=event,
            )
            self.event("consent:consent:grant", person, joined)
