"""Benchmark of the access export (GDPR art. 15) against raw SQL reads of the same rows.

    .venv/bin/python bench/rights_access.py --members 100000
    .venv/bin/python bench/rights_access.py --members 100000 \\
        --database-url postgres://postgres@127.0.0.1:5436/postgres

Builds a database of N members with a realistic history, written in bulk (DB-API
``executemany`` on SQLite, ``COPY`` on PostgreSQL; values encrypted under each person's own
data key exactly as the models do, blind index included):

- a person with a data key, a member, a login account for most, 0 to 3 beneficiaries (persons
  with their own keys, some children attached to the member's NIR), a contract covering them
  (an earlier, ended one for some), a SEPA mandate;
- correspondence: inquiries over three years, 1 to 4 messages each (staff answers), a few
  attachments, some inquiries qualified as complaints;
- consent choices and the current preferences (``consent`` app);
- audit events: creation, log-ins, correspondence (about 30 per member), a few disclosures to
  mandatory schemes, a few rights requests;
- premiums: none, the billing app has no premium model yet (SEPA mandates only).

Then, for ``--sample`` random members, in the same run and on the same warm database:

- **export**: ``render_access_json(build_access_export(person))``, decrypted, in JSON;
- **raw**: hand-built SQL, one SELECT per table by the same keys (the person and their
  beneficiaries, joined along the same subject paths, plus the contract-beneficiary links, the
  audit events, their actors and the disclosures), every column read, no decryption, no JSON.

Each member's raw read and export run once untimed first, so both timings read warm pages (the
key cache is then emptied: each timed export unwraps its keys, as in production). It prints the
median and 95th percentile of both, and the ratio of the medians (target at 100,000 members:
under 3, and the export well under 0.1 s). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=200, help="members exported")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in a temp dir)")
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--keep", type=Path, help="build into this folder and keep it")
    parser.add_argument("--reuse", type=Path, help="measure a database kept by --keep")
    parser.add_argument("--profile", action="store_true", help="print a profile of the exports")
    return parser.parse_args()


# --- Scratch database and Django --------------------------------------------------------------
def scratch_database(url: str | None, workdir: Path):
    if not url:
        return f"sqlite:///{workdir / 'rights.sqlite3'}", lambda: None
    import psycopg

    name = f"bench_rights_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.rsplit("/", 1)[0] + f"/{name}", drop


def setup_django(database_url: str, workdir: Path, *, reuse: bool = False) -> None:
    key = lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()  # noqa: E731
    saved = workdir / "environment.json"
    environment = {
        "DJANGO_SETTINGS_MODULE": "mutualis.settings",
        "DATABASE_URL": database_url,
        "MUTUALIS_VAR_DIR": str(workdir),
        "MUTUALIS_MASTER_KEY": key(),
        "MUTUALIS_BLIND_INDEX_KEY": key(),
        "SECRET_KEY": secrets.token_urlsafe(64),
        "LOG_LEVEL": "WARNING",
    }
    if reuse:
        environment = json.loads(saved.read_text())
    else:
        saved.write_text(json.dumps(environment))  # throw-away keys of a scratch database
    os.environ.update(environment)
    os.environ.pop("DEBUG", None)  # DEBUG would keep every query in memory
    import django

    django.setup()
    if not reuse:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


# --- Bulk writer ------------------------------------------------------------------------------
class Writer:
    """Rows given as {attname: value} dicts, written in bulk with the models' columns.

    Missing values take the field's default (evaluated once per table). Values are adapted by
    hand for the backend, as Django would store them.
    """

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.sqlite = connection.vendor == "sqlite"
        self.pending: dict[type, list[tuple]] = {}
        self.layouts: dict[type, tuple] = {}
        self.counts: dict[str, int] = {}
        self.explicit_keys: set[type] = set()
        if self.sqlite:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous = OFF")

    def layout(self, model):
        from django.db import models

        found = self.layouts.get(model)
        if found is None:
            # Auto-increment keys are left to the database, unless the builder gives them.
            fields = [
                f
                for f in model._meta.local_concrete_fields
                if not isinstance(f, models.AutoField) or model in self.explicit_keys
            ]
            defaults = {
                f.attname: (f.get_default() if f.has_default() or f.null else "") for f in fields
            }
            found = self.layouts[model] = (fields, defaults, [self.adapter(f) for f in fields])
        return found

    def adapter(self, field):
        from django.db import models

        internal = field.get_internal_type()
        target = field.target_field if field.is_relation else field
        if isinstance(target, models.UUIDField):
            return (lambda v: None if v is None else v.hex) if self.sqlite else None
        if not self.sqlite:
            if internal == "JSONField":
                return json.dumps
            return None
        if internal == "DateTimeField":
            return lambda v: (
                None
                if v is None
                else v.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ")
            )
        if internal == "DateField":
            return lambda v: None if v is None else v.isoformat()
        if internal == "JSONField":
            return json.dumps
        if internal == "BooleanField":
            return lambda v: None if v is None else int(v)
        return None

    def add(self, model, **values) -> None:
        fields, defaults, adapters = self.layout(model)
        row = []
        for field, adapt in zip(fields, adapters, strict=True):
            value = values.get(field.attname, defaults[field.attname])
            row.append(adapt(value) if adapt and value is not None else value)
        self.pending.setdefault(model, []).append(tuple(row))

    def add_link(self, through, **values) -> None:
        self.add(through, **values)

    def flush(self) -> None:
        from django.db import transaction

        with transaction.atomic():
            cursor = self.connection.connection.cursor()
            for model, rows in self.pending.items():
                fields = self.layouts[model][0]
                table = model._meta.db_table
                columns = ", ".join(f'"{f.column}"' for f in fields)
                if self.sqlite:
                    marks = ", ".join("?" * len(fields))
                    cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', rows)
                else:
                    with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                        for row in rows:
                            copy.write_row(row)
                self.counts[table] = self.counts.get(table, 0) + len(rows)
        self.pending.clear()


# --- Synthetic members ------------------------------------------------------------------------
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy"]
WOMEN = ["Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Anne", "Claire"]
MEN = ["Lucas", "Hugo", "Louis", "Gabriel", "Jules", "Arthur", "Paul", "Nicolas", "Marc"]
SUBJECTS = [
    "Remboursement optique",
    "Attestation de droits",
    "Changement d'adresse",
    "Question sur ma cotisation",
    "Tiers payant refusé",
    "Ajout d'un bénéficiaire",
]
TAGS_LOGIN = "members:account:login"


class Builder:
    def __init__(self, writer: Writer, rng: random.Random) -> None:
        from mutualis.contact.models import Attachment, Complaint, Inquiry, Message
        from mutualis.contracts.models import Contract, Offer
        from mutualis.members.models import Beneficiary, Member, Person, User
        from mutualis.privacy.models import PolicyVersion
        from mutualis.vault import services as vault
        from mutualis.vault.blind_index import blind_index
        from mutualis.vault.models import DataKey

        self.w, self.rng, self.vault, self.blind_index = writer, rng, vault, blind_index
        self.Person, self.Member, self.User, self.Beneficiary = Person, Member, User, Beneficiary
        self.Contract, self.Link = Contract, Contract.beneficiaries.through
        self.DataKey, self.Inquiry, self.Message = DataKey, Inquiry, Message
        self.Attachment, self.Complaint = Attachment, Complaint
        from mutualis.billing.models import Mandate

        self.Mandate = Mandate
        self.offers = list(Offer.objects.values_list("pk", flat=True))
        self.policy = PolicyVersion.objects.values_list("pk", flat=True).first()
        self.nir_field = Person._meta.get_field("nir")
        self.birth_field = Person._meta.get_field("birth_date")
        self.iban_field = Mandate._meta.get_field("iban")
        self.staff = self._staff()
        self.nirs: set[str] = set()
        try:
            from mutualis.consent.models import ConsentEvent, Preference

            self.consent = (ConsentEvent, Preference)
        except ImportError:
            self.consent = None
        try:
            from mutualis.rights.models import RightsRequest

            self.rights = RightsRequest
        except ImportError:
            self.rights = None
        from mutualis.audit.models import Disclosure, Event

        self.Event, self.Disclosure = Event, Disclosure
        writer.explicit_keys |= {Event, User}
        self.seq = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    def _staff(self) -> list[int]:
        from mutualis.members.models import User, UserKind

        ids = []
        for i, role in enumerate(["gestion", "cotisations", "relation_adherent", "reclamations"]):
            user = User.objects.create_user(
                email=f"agent{i}@mutuelle.example", kind=UserKind.STAFF, role=role
            )
            ids.append(user.pk)
        return ids

    def moment(self, days_back: int) -> datetime.datetime:
        return NOW - datetime.timedelta(days=days_back, seconds=self.rng.randint(0, 86_399))

    def seal(self, field, key, pk: uuid.UUID, value) -> bytes:
        return self.vault.encrypt_for(key, field.encode(value), field.aad(str(pk)))

    def event(self, tag: str, subject: uuid.UUID, at: datetime.datetime, actor: str = "system"):
        self.seq += 1
        self.w.add(
            self.Event,
            id=self.seq,
            seq=self.seq,
            at=at,
            actor=actor,
            tag=tag,
            subject_id=str(subject),
            target="",
            details={},
            prev_hash="0" * 64,
            hash=f"{self.seq:064x}",
        )
        return self.seq

    def person(
        self,
        i: int,
        *,
        woman: bool,
        last: str,
        birth: datetime.date,
        holder=None,
        with_nir: bool = True,
        contact: bool = True,
    ) -> tuple[uuid.UUID, object]:
        from mutualis.members.testing import make_nir

        nir = make_nir(civility="MME" if woman else "M", birth_date=birth, rng=self.rng)
        while nir in self.nirs:  # NIRs are unique (blind index)
            nir = make_nir(civility="MME" if woman else "M", birth_date=birth, rng=self.rng)
        self.nirs.add(nir)
        key = self.vault.build_data_key()
        self.w.add(
            self.DataKey,
            id=key.id,
            wrapped_key=key.wrapped_key,
            master_key_id=key.master_key_id,
            created_at=NOW,
        )
        pk = uuid.uuid4()
        first = self.rng.choice(WOMEN if woman else MEN)
        self.w.add(
            self.Person,
            id=pk,
            data_key_id=key.id,
            civility="MME" if woman else "M",
            last_name=last,
            first_names=first,
            birth_date=self.seal(self.birth_field, key, pk, birth),
            address_line1=f"{self.rng.randint(1, 120)} rue de la République" if contact else "",
            postal_code="75011" if contact else "",
            city="Paris" if contact else "",
            email=f"{first.lower()}.{last.lower()}.{i}@example.org" if contact else "",
            phone_mobile=f"06{self.rng.randint(10**7, 10**8 - 1)}" if contact else "",
            nir=self.seal(self.nir_field, key, pk, nir) if with_nir else None,
            nir_index=self.blind_index(nir, purpose="nir") if with_nir else None,
            nir_holder_id=holder,
            scheme_regime="01",
            scheme_caisse="751",
            scheme_centre="0001",
            scheme_organisation="CPAM de Paris",
            created_at=NOW,
            updated_at=NOW,
        )
        return pk, key

    def member(self, i: int) -> None:
        from mutualis.members.testing import make_french_iban

        rng = self.rng
        woman = rng.random() < 0.5
        last = rng.choice(LAST)
        birth = datetime.date(rng.randint(1950, 2000), rng.randint(1, 12), rng.randint(1, 28))
        person, key = self.person(i, woman=woman, last=last, birth=birth)
        joined = self.moment(rng.randint(400, 3000))
        for tag in (
            "members:person:create",
            "members:member:create",
            "billing:mandate:create",
            "contracts:contract:create",
        ):
            self.event(tag, person, joined)
        account = None
        if rng.random() < 0.7:
            account = 100_000 + i
            self.w.add(
                self.User,
                id=account,
                password="!unusable",  # noqa: S106 - an unusable hash, no password
                email=f"m{i}@example.org",
                kind="member",
                date_joined=joined,
                last_login=self.moment(3),
                is_active=True,
            )
            for _ in range(rng.randint(5, 40)):
                self.event(TAGS_LOGIN, person, self.moment(rng.randint(0, 1000)), f"user:{account}")
        member = uuid.uuid4()
        self.w.add(
            self.Member,
            id=member,
            person_id=person,
            number=f"A{i:09d}",
            account_id=account,
            joined_at=joined,
        )
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
                    else (birth)
                )
                attached = child and rng.random() < 0.6
                pk, _key = self.person(
                    i,
                    woman=rng.random() < 0.5,
                    last=last,
                    birth=born,
                    holder=person if attached else None,
                    with_nir=not attached,
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
                beneficiaries.append(beneficiary)
        contracts = [(f"C{i:09d}", joined.date(), None)]
        if rng.random() < 0.1:
            contracts.append(
                (
                    f"E{i:09d}",
                    joined.date() - datetime.timedelta(days=900),
                    joined.date() - datetime.timedelta(days=1),
                )
            )
        for number, start, end in contracts:
            contract = uuid.uuid4()
            self.w.add(
                self.Contract,
                id=contract,
                number=number,
                member_id=member,
                offer_id=rng.choice(self.offers),
                start_date=start,
                end_date=end,
                cgu_version="2018-03",
                policy_version_id=self.policy,
                accepted_at=joined,
            )
            for beneficiary in beneficiaries:
                self.w.add(self.Link, contract_id=contract, beneficiary_id=beneficiary)
        mandate = uuid.uuid4()
        self.w.add(
            self.Mandate,
            id=mandate,
            member_id=member,
            data_key_id=key.id,
            reference=f"RUM-BENCH-{i:012d}",
            creditor_identifier="FR72ZZZ123456",
            debtor_name=f"{last}",
            iban=self.seal(self.iban_field, key, mandate, make_french_iban(rng)),
            bic="",
            signed_at=joined,
            signed_place="Paris",
        )
        self.correspondence(i, person)
        self.consents(person, joined)
        if rng.random() < 0.1:
            seq = self.event("audit:disclosure:create", person, self.moment(rng.randint(0, 300)))
            self.w.add(
                self.Disclosure,
                at=self.moment(1),
                recipient="mandatory_schemes",
                subject_id=str(person),
                categories=["identity", "administrative"],
                reason="Télétransmission",
                actor="system",
                event_id=seq,
            )
        if self.rights is not None and rng.random() < 0.01:
            self.w.add(
                self.rights,
                id=uuid.uuid4(),
                reference=f"R{i:09d}",
                kind="access",
                person_id=person,
                subject_id=str(person),
                channel="member_space",
                received_at=self.moment(20),
                due_date=NOW.date(),
                status="closed",
                details={},
            )

    def correspondence(self, i: int, person: uuid.UUID) -> None:
        rng = self.rng
        for n in range(rng.choice([0, 1, 2, 3, 3, 4, 5, 6])):
            inquiry = uuid.uuid4()
            received = self.moment(rng.randint(0, 1000))
            self.w.add(
                self.Inquiry,
                id=inquiry,
                reference=f"D{i:08d}{n:02d}"[-12:],
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
                    self.event("contact:message:send", person, received, f"user:{self.staff[0]}")
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
            if rng.random() < 0.05:
                self.w.add(
                    self.Complaint,
                    inquiry_id=inquiry,
                    qualified_at=received,
                    received_on=received.date(),
                    complainant_type="member",
                    reason="Délai de remboursement",
                    acknowledgement_due=received.date(),
                    answer_due=received.date(),
                    mediation=False,
                )

    def consents(self, person: uuid.UUID, joined: datetime.datetime) -> None:
        if self.consent is None:
            return
        event_model, preference_model = self.consent
        for topic in self.rng.sample(["newsletter", "offers", "surveys"], self.rng.randint(0, 3)):
            event = uuid.uuid4()
            self.w.add(
                event_model,
                id=event,
                person_id=person,
                topic=topic,
                channel="email",
                action="granted",
                at=joined,
                source="subscription",
                actor="system",
            )
            self.w.add(
                preference_model,
                id=uuid.uuid4(),
                person_id=person,
                topic=topic,
                channel="email",
                granted=True,
                since=joined,
                event_id=event,
            )
            self.event("consent:consent:grant", person, joined)


def build(members: int, seed: int) -> dict[str, int]:
    from mutualis.contracts.testing import ensure_offers
    from mutualis.privacy.policy import publish

    ensure_offers()
    publish()
    writer = Writer()
    builder = Builder(writer, random.Random(seed))
    for i in range(members):
        builder.member(i)
        if i % 2000 == 1999:
            writer.flush()
    writer.flush()
    from mutualis.audit.models import ChainHead

    ChainHead.objects.update_or_create(pk=1, defaults={"last_seq": builder.seq})
    if writer.connection.vendor == "postgresql":
        with writer.connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with writer.connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return writer.counts


# --- The raw baseline --------------------------------------------------------------------------
def _quote(name: str) -> str:
    return f'"{name}"'


def raw_statements() -> dict:
    """One SELECT per declared table, joined along its subject path, every column read."""
    from django.db import connection, models

    from mutualis.rights.export import plans

    statements = {}
    for plan in plans():
        model = plan.model
        table = model._meta.db_table
        columns = []
        for field in model._meta.local_concrete_fields:
            column = f"t0.{_quote(field.column)}"
            if isinstance(field, models.BinaryField) and not getattr(field, "is_encrypted", False):
                column = f"length({column})"  # the export reads sizes, not file bytes
            columns.append(column)
        joins, alias, current = [], "t0", model
        parts = [] if plan.path in ("pk", "subject_id") else plan.path.split("__")
        for n, part in enumerate(parts[:-1], start=1):
            field = current._meta.get_field(part)
            target = field.related_model
            if field.concrete:  # forward foreign key
                on = f"{alias}.{_quote(field.column)} = t{n}.{_quote(target._meta.pk.column)}"
            else:  # reverse one-to-one
                on = (
                    f"t{n}.{_quote(field.field.column)} = {alias}.{_quote(current._meta.pk.column)}"
                )
            joins.append(f"JOIN {_quote(target._meta.db_table)} t{n} ON {on}")
            alias, current = f"t{n}", target
        if plan.path == "pk":
            where = f"t0.{_quote(model._meta.pk.column)}"
        elif plan.path == "subject_id":
            where = "t0.subject_id"
        else:
            where = f"{alias}.{_quote(current._meta.get_field(parts[-1]).column)}"
        statements[model._meta.label_lower] = (
            f"SELECT {', '.join(columns)} FROM {_quote(table)} t0 {' '.join(joins)} "
            f"WHERE {where} IN ",
            plan.beneficiaries,
            plan.path == "subject_id",
        )
    statements["_sqlite"] = connection.vendor == "sqlite"
    return statements


def raw_read(statements: dict, person_id: uuid.UUID) -> int:
    """The same rows as the export, read with plain SQL (DB-API cursor, fetchall)."""
    from django.db import connection

    sqlite = statements["_sqlite"]
    mark = "?" if sqlite else "%s"
    key = person_id.hex if sqlite else person_id
    cursor = connection.connection.cursor()
    rows = 0

    def select(sql: str, params: list, *, in_list: bool = False) -> list:
        nonlocal rows
        if in_list:
            sql += "(" + ", ".join([mark] * len(params)) + ")"
        cursor.execute(sql, params)
        found = cursor.fetchall()
        rows += len(found)
        return found

    beneficiaries = select(
        "SELECT b.person_id FROM members_beneficiary b JOIN members_member m "
        f"ON b.member_id = m.id WHERE m.person_id = {mark}",
        [key],
    )
    holders = [key] + [row[0] for row in beneficiaries]
    contracts = []
    for label, statement in statements.items():
        if label.startswith("_"):
            continue
        sql, with_beneficiaries, by_text = statement
        params = [str(person_id)] if by_text else (holders if with_beneficiaries else [key])
        found = select(sql, params, in_list=True)
        if label == "contracts.contract":
            contracts = [row[0] for row in found]
    if contracts:
        select(
            "SELECT * FROM contracts_contract_beneficiaries WHERE contract_id IN ",
            contracts,
            in_list=True,
        )
    events = select(
        f"SELECT t.actor, t.* FROM audit_event t WHERE t.subject_id = {mark}", [str(person_id)]
    )
    actors = sorted({int(e[0].split(":")[1]) for e in events if e[0].startswith("user:")})
    if actors:
        select("SELECT * FROM members_user WHERE id IN ", actors, in_list=True)
    select(f"SELECT * FROM audit_disclosure WHERE subject_id = {mark}", [str(person_id)])
    return rows


# --- Run ---------------------------------------------------------------------------------------
def main() -> None:
    args = parse_args()
    workdir = args.reuse or args.keep or Path(tempfile.mkdtemp(prefix="mutualis-bench-rights-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.reuse:
        url, drop = json.loads((workdir / "environment.json").read_text())["DATABASE_URL"], None
    else:
        url, drop = scratch_database(args.database_url, workdir)
    keep = bool(args.keep or args.reuse)
    try:
        setup_django(url, workdir, reuse=bool(args.reuse))
        from django.db import connection

        from mutualis.members.models import Member
        from mutualis.rights.export import build_access_export, render_access_json
        from mutualis.vault import services as vault

        if not args.reuse:
            started = time.perf_counter()
            counts = build(args.members, args.seed)
            print(
                f"base : {connection.vendor}, {args.members} adhérents construits en "
                f"{time.perf_counter() - started:.0f} s"
            )
            for table, count in sorted(counts.items()):
                print(f"  {table:36} {count:>10}")
            print("  (cotisations : aucune, l'application billing n'a pas de modèle de cotisation)")

        rng = random.Random(args.seed + 1)
        total = Member.objects.count()
        numbers = [f"A{n:09d}" for n in rng.sample(range(total), min(args.sample, total))]
        members = Member.objects.select_related("person").in_bulk(numbers, field_name="number")
        persons = [members[number].person for number in numbers]
        statements = raw_statements()
        vault.clear_key_cache()  # each export unwraps its person's key, as in production
        for person in persons[:10]:  # warm the process (compiled queries), not the rows
            raw_read(statements, person.pk)
            render_access_json(build_access_export(person))
        vault.clear_key_cache()
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            for person in persons:
                render_access_json(build_access_export(person))
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            vault.clear_key_cache()
        export_times, raw_times, sizes, build_times, export_cpu, raw_cpu = [], [], [], [], [], []
        for person in persons:
            raw_read(statements, person.pk)  # warm pages for both: the rows both read,
            build_access_export(person)  # and those only the export reads (data keys, names)
            vault.clear_key_cache()
            c0, t0 = time.process_time(), time.perf_counter()
            export = build_access_export(person)
            tb = time.perf_counter()
            body = render_access_json(export)
            c1, t1 = time.process_time(), time.perf_counter()
            raw_read(statements, person.pk)
            c2, t2 = time.process_time(), time.perf_counter()
            build_times.append(tb - t0)
            export_times.append(t1 - t0)
            raw_times.append(t2 - t1)
            export_cpu.append(c1 - c0)
            raw_cpu.append(c2 - c1)
            sizes.append(len(body))

        def ms(values: list[float], q: float) -> float:
            return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if q < 100 else 0

        export_median = statistics.median(export_times)
        raw_median = statistics.median(raw_times)
        print(f"{len(persons)} exports ; JSON médian {statistics.median(sizes) / 1000:.0f} ko")
        print(
            f"export : médiane {export_median * 1000:7.2f} ms   p95 {ms(export_times, 95):7.2f} ms"
        )
        print(
            "  dont lecture et déchiffrement : médiane "
            f"{statistics.median(build_times) * 1000:.2f} ms"
        )
        print(f"brut   : médiane {raw_median * 1000:7.2f} ms   p95 {ms(raw_times, 95):7.2f} ms")
        print(f"ratio export/brut (médianes) : {export_median / raw_median:.2f} (objectif < 3)")
        # CPU time of this process (SQLite's included, a PostgreSQL server's not): on a shared
        # machine, less noisy than elapsed time.
        cpu_export, cpu_raw = statistics.median(export_cpu), statistics.median(raw_cpu)
        print(
            f"temps CPU médian : export {cpu_export * 1000:.2f} ms, brut {cpu_raw * 1000:.2f} ms"
            f" (ratio {cpu_export / cpu_raw:.2f})"
        )
    finally:
        from django.db import connections

        connections.close_all()
        if keep:
            print(f"base gardée : {workdir} (--reuse {workdir})")
        else:
            drop()
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
