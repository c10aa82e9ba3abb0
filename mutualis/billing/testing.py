"""Test helpers of billing: members subscribed on a given day, and days of the cycle run on
frozen time, always through the services."""

from __future__ import annotations

import contextlib
import datetime
import random
from collections.abc import Iterator
from pathlib import Path

import time_machine

from mutualis.contracts import services
from mutualis.contracts.testing import child_of, ensure_offers, make_application, make_person_data


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour)


@contextlib.contextmanager
def on(day: datetime.date, hour: int = 10) -> Iterator[None]:
    """Frozen time at ``hour`` o'clock (Paris) on ``day``."""
    import zoneinfo

    moment = datetime.datetime(
        day.year, day.month, day.day, hour, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")
    )
    with time_machine.travel(moment, tick=False):
        yield


def subscribed_on(
    day: datetime.date,
    *,
    first_names: str = "Alice",
    email: str = "alice@example.org",
    seed: int = 1,
    children: int = 1,
):
    """The contract of a member who subscribed on ``day`` (effective that day)."""
    ensure_offers()
    with on(day):
        rng = random.Random(seed)
        person = make_person_data(first_names=first_names, email=email, rng=rng)
        kids = [child_of(person, rng=rng) for _ in range(children)]
        application = make_application(member=person, beneficiaries=kids, rng=rng)
        return services.subscribe(application=application)


def cycle_on(day: datetime.date):
    """The daily billing run of ``day``, on frozen time."""
    from mutualis.billing import cycle

    with on(day, hour=2):
        return cycle.run(today=day)


def batch_on(collection_date: datetime.date, directory: Path, *, today=None, schema=None):
    """The batch of ``collection_date`` built on ``today`` (two days before by default)."""
    from mutualis.billing.models import BatchFormat
    from mutualis.billing.sepa import run

    today = today or collection_date - datetime.timedelta(days=2)
    with on(today, hour=6):
        return run.run(
            collection_date=collection_date,
            schema=schema or BatchFormat.V08,
            directory=directory,
            today=today,
        )


# --- Bank reports, as a bank writes them ---------------------------------------------------


def pain002(
    batch, rejects, *, group_status="PART", message="STS-1", day=None, version="pain.002.001.08"
) -> bytes:
    """A pain.002 status report rejecting ``rejects`` ((debit, reason code) pairs), valid
    against the official schema of ``version`` (.001.03 to .001.10 share this shape)."""
    created = (day or datetime.date(2027, 1, 7)).isoformat()
    txs = "".join(
        f"""<TxInfAndSts><StsId>{n}</StsId><OrgnlEndToEndId>{debit.end_to_end_id}</OrgnlEndToEndId>
        <TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>{code}</Cd></Rsn></StsRsnInf>
        <OrgnlTxRef><Amt><InstdAmt Ccy="EUR">{debit.amount}</InstdAmt></Amt></OrgnlTxRef>
        </TxInfAndSts>"""
        for n, (debit, code) in enumerate(rejects, start=1)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{version}"><CstmrPmtStsRpt>
<GrpHdr><MsgId>{message}</MsgId><CreDtTm>{created}T08:00:00</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>{batch.message_id}</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.08</OrgnlMsgNmId>
<GrpSts>{group_status}</GrpSts></OrgnlGrpInfAndSts>
<OrgnlPmtInfAndSts><OrgnlPmtInfId>{batch.message_id}-FRST</OrgnlPmtInfId>{txs}</OrgnlPmtInfAndSts>
</CstmrPmtStsRpt></Document>""".encode()


def camt054(entries, *, message="NTF-1", version="camt.054.001.08") -> bytes:
    """A camt.054 notification of returns: (debit, reason code, booking day, fee) tuples, valid
    against the official schema of ``version`` (.001.02 or .001.08: their entry's status and
    charges differ)."""
    first = version == "camt.054.001.02"
    status = "<Sts>BOOK</Sts>" if first else "<Sts><Cd>BOOK</Cd></Sts>"
    # A returned direct debit the creditor issued: domain payments, family issued direct
    # debits, sub-family unpaid (ISO 20022 bank transaction codes).
    code_of = "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>UPDD</SubFmlyCd></Fmly>"
    code_of += "</Domn></BkTxCd>"

    def charges(fee):
        if first:
            amount = f'<Amt Ccy="EUR">{fee}</Amt>'
        else:
            amount = f'<Rcrd><Amt Ccy="EUR">{fee}</Amt></Rcrd>'
        return f'<Chrgs><TtlChrgsAndTaxAmt Ccy="EUR">{fee}</TtlChrgsAndTaxAmt>{amount}</Chrgs>'

    body = "".join(
        f"""<Ntry><Amt Ccy="EUR">{debit.amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd>
        <RvslInd>true</RvslInd>
        {status}<BookgDt><Dt>{day.isoformat()}</Dt></BookgDt>{code_of}
        <NtryDtls><TxDtls><Refs><EndToEndId>{debit.end_to_end_id}</EndToEndId></Refs>
        <AmtDtls><TxAmt><Amt Ccy="EUR">{debit.amount}</Amt></TxAmt></AmtDtls>
        {code_of}{charges(fee)}
        <RtrInf><Rsn><Cd>{code}</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>"""
        for debit, code, day, fee in entries
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{version}"><BkToCstmrDbtCdtNtfctn>
<GrpHdr><MsgId>{message}</MsgId><CreDtTm>2027-02-10T08:00:00</CreDtTm></GrpHdr>
<Ntfctn><Id>N1</Id><CreDtTm>2027-02-10T08:00:00</CreDtTm>
<Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>{body}</Ntfctn>
</BkToCstmrDbtCdtNtfctn></Document>""".encode()


def suite_history(member) -> dict:
    """What the pages of the cotisations service show, for one member, on today's date: the
    schedule announced, a batch released with its file, its debit rejected by the bank, an
    unpaid case with its formal notice and a payment plan — all through the services."""
    from decimal import Decimal

    from django.conf import settings
    from django.utils import timezone

    from mutualis.billing import calendar, cycle, dunning, notice_letters
    from mutualis.billing.models import BatchFormat, DebitReturn, PreNotification
    from mutualis.billing.returns.apply import import_bytes
    from mutualis.billing.sepa import run

    today = timezone.localdate()
    # A member without an e-mail address (as the legacy import may leave one), whose notices
    # go by post: announced by the same run.
    seed = random.Random(str(member.pk)).randrange(10**6)  # one postal member per history
    postal = subscribed_on(today, first_names="Paul", email=f"paul.{seed}@example.org", seed=seed)
    postal = postal.member
    postal.person.email = ""
    postal.person.save(update_fields=["email"])
    cycle.run(today=today)
    day = calendar.next_collection_date(today + datetime.timedelta(days=calendar.notice_days()))
    outcome = run.run(
        collection_date=day,
        schema=BatchFormat.V08,
        directory=Path(settings.MUTUALIS_SEPA_OUT_DIR),
        today=today,
    )
    debit = member.debits.get(batch=outcome.batch)
    import_bytes(pain002(outcome.batch, [(debit, "AM04")], day=today), file_name="suite.xml")
    due = dunning.Unpaid(Decimal("42.00"), today - datetime.timedelta(days=20), None)
    case = dunning.open_case(member=member, due=due, today=today)
    dunning.send_notice(case, today=today)
    plan = dunning.grant_plan(case=case, instalment_count=3, first_date=today, actor=None)
    # The postal member's notices: posted in a run, but for the last date's, still waiting for
    # the next one (both lists are on the page).
    run_id, _ = notice_letters.print_run(made_until=timezone.now(), actor=None)
    notices = PreNotification.objects.filter(member=postal)
    last = notices.order_by("-collection_date").values_list("collection_date", flat=True).first()
    notices.filter(collection_date=last).update(posted_at=None, print_run=None)
    return {
        "batch": outcome.batch,
        "case": case,
        "plan": plan,
        "letter": case.letters.get(),
        "return": DebitReturn.objects.get(debit=debit),
        "print_run": run_id,
    }
