"""A pain.008 batch of N debits against writing the same file with lxml directly, same run.

    .venv/bin/python bench/sepa_batch.py [--debits 100000] [--database-url postgres://…]

Builds N generated members (``mutualis.generate``: each with a SEPA mandate, the IBAN encrypted
under the member's own key), then one batch of one debit per mandate (inserted by one SQL
statement, as ``sepa_batch`` would have built them: the build step is not what is compared).
Then, each in a process of its own whose peak memory is counted from its start:

- **ours**: ``release.write_file`` — the file ``manage.py sepa_batch`` releases: sepaxml builds
  each transaction, the envelope is written around them as a stream, the IBANs decrypted by the
  vault fields, the whole file validated against the official XSD shipped with sepaxml (a second
  streaming read), fsync'ed, its SHA-256 computed;
- **raw**: the same rows read by one SQL statement, each IBAN decrypted with the same vault
  primitive, the same document written with lxml's incremental writer (``etree.xmlfile``), no
  validation.

Both files must hold the same transactions (their ``DrctDbtTxInf`` are compared by end-to-end
id, amount, IBAN and mandate). Prints debits per second of both, the ratio (target: at least
0.5) and the peak resident memory of each process: it must stay flat in N (compare 100,000 and
1,000,000). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Result, generated_database, peak_rss_mib, report

COLLECTION = datetime.date(2027, 2, 5)
NS = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--debits", type=int, default=100_000)
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in a temp dir)")
    parser.add_argument("--seed", type=int, default=20261120)
    return parser.parse_args(argv)


def build_batch() -> str:
    """One released-to-be batch with a debit per current mandate; returns its id."""
    from django.db import connection

    from mutualis.billing.sepa import build

    batch, _ = build.open_batch(COLLECTION, "pain.008.001.08")
    uuid_sql = (
        "gen_random_uuid()" if connection.vendor == "postgresql" else "lower(hex(randomblob(16)))"
    )
    batch_id = batch.pk if connection.vendor == "postgresql" else batch.pk.hex
    e2e = "upper(replace(CAST(d_id AS TEXT), '-', ''))"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO billing_debit (id, batch_id, mandate_id, member_id, amount, remittance,
                end_to_end_id, sequence_type, original_mandate_reference,
                original_debtor_account_changed, original_account_sent, status, created_at,
                year_end, archived_at)
            SELECT d_id, %s, m_id, member_id, 84.30, 'Cotisations 02/2027', {e2e},
                'RCUR', '', false, false, 'pending', %s, %s, NULL
            FROM (SELECT {uuid_sql} AS d_id, id AS m_id, member_id FROM billing_mandate
                  WHERE ended_at IS NULL) AS mandates
            """,
            [batch_id, datetime.datetime(2027, 2, 3, 6, tzinfo=datetime.UTC), "2027-12-31"],
        )
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE billing_debit")
    return str(batch.pk)


def _ours(queue, batch_id: str, directory: str) -> None:
    from mutualis.billing.models import DebitBatch
    from mutualis.billing.sepa import release

    batch = DebitBatch.objects.get(pk=batch_id)
    began = time.perf_counter()
    path, _sha = release.write_file(batch, Path(directory))
    elapsed = time.perf_counter() - began
    queue.put((batch.debits.count(), elapsed, _peak_mib(), str(path)))


_RAW = """
SELECT d.end_to_end_id, d.amount, d.remittance, m.id, m.reference, m.signed_at, m.debtor_name,
       m.iban, m.bic, k.id, k.wrapped_key, k.master_key_id, k.shredded_at
FROM billing_debit d JOIN billing_mandate m ON m.id = d.mandate_id
JOIN vault_datakey k ON k.id = m.data_key_id
WHERE d.batch_id = %s AND d.sequence_type = %s ORDER BY d.end_to_end_id
"""


def _raw(queue, batch_id: str, directory: str) -> None:
    from decimal import Decimal

    from django.db import connection
    from lxml import etree

    from mutualis.billing.models import DebitBatch, Mandate
    from mutualis.billing.sepa import release
    from mutualis.vault import services
    from mutualis.vault.models import DataKey

    batch = DebitBatch.objects.get(pk=batch_id)
    creditor = release.creditor()
    header = release.header(batch)
    groups = release.groups(batch)
    aad = Mandate._meta.get_field("iban").aad
    path = Path(directory) / "raw.xml"
    began = time.perf_counter()
    count = 0
    with open(path, "wb") as out, etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with (
            xf.element(f"{{{NS}}}Document", nsmap={None: NS}),
            xf.element(f"{{{NS}}}CstmrDrctDbtInitn"),
        ):
            xf.write(_header(etree, header, creditor, groups))
            for group in groups:
                with xf.element(f"{{{NS}}}PmtInf"):
                    for field in _payment_info(etree, header, creditor, group):
                        xf.write(field)
                    with connection.cursor() as cursor:
                        key = batch.pk if connection.vendor == "postgresql" else batch.pk.hex
                        cursor.execute(_RAW, [key, group.sequence_type])
                        while rows := cursor.fetchmany(2000):
                            for row in rows:
                                (
                                    e2e,
                                    amount,
                                    remittance,
                                    mandate_id,
                                    reference,
                                    signed,
                                    name,
                                    iban,
                                    bic,
                                    key_id,
                                    wrapped,
                                    master,
                                    shredded,
                                ) = row
                                data_key = DataKey(
                                    id=uuid.UUID(str(key_id)),
                                    wrapped_key=wrapped,
                                    master_key_id=master,
                                    shredded_at=shredded,
                                )
                                pk_text = str(uuid.UUID(str(mandate_id)))
                                plain = services.decrypt_for(
                                    data_key, bytes(iban), aad(pk_text)
                                ).decode()
                                xf.write(
                                    _tx(
                                        etree,
                                        e2e,
                                        Decimal(amount),
                                        reference,
                                        _local_day(signed),
                                        name,
                                        plain,
                                        bic,
                                        remittance,
                                    )
                                )
                                count += 1
    elapsed = time.perf_counter() - began
    queue.put((count, elapsed, _peak_mib(), str(path)))


def _local_day(value) -> datetime.date:
    """A stored time as the local day (SQLite gives it naive, in UTC, or as text)."""
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    if isinstance(value, str):
        value = parse_datetime(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=datetime.UTC)
    return timezone.localdate(value)


def _e(etree, tag, text=None, *children):
    element = etree.Element(f"{{{NS}}}{tag}")
    if text is not None:
        element.text = text
    element.extend(children)
    return element


def _header(etree, header, creditor, groups):
    e = lambda *a: _e(etree, *a)  # noqa: E731
    total = sum(g.total for g in groups)
    return e(
        "GrpHdr", None, e("MsgId", header.message_id),
        e("CreDtTm", header.created_at.replace(microsecond=0).isoformat()),
        e("NbOfTxs", str(sum(g.count for g in groups))), e("CtrlSum", f"{total:.2f}"),
        e("InitgPty", None, e("Nm", creditor.name),
          e("Id", None, e("OrgId", None, e("Othr", None, e("Id", creditor.identifier))))),
    )  # fmt: skip


def _payment_info(etree, header, creditor, group):
    e = lambda *a: _e(etree, *a)  # noqa: E731
    return [
        e("PmtInfId", f"{header.message_id}-{group.sequence_type}"), e("PmtMtd", "DD"),
        e("BtchBookg", "true"), e("NbOfTxs", str(group.count)),
        e("CtrlSum", f"{group.total:.2f}"),
        e("PmtTpInf", None, e("SvcLvl", None, e("Cd", "SEPA")),
          e("LclInstrm", None, e("Cd", "CORE")), e("SeqTp", group.sequence_type)),
        e("ReqdColltnDt", header.collection_date.isoformat()),
        e("Cdtr", None, e("Nm", creditor.name)),
        e("CdtrAcct", None, e("Id", None, e("IBAN", creditor.iban))),
        e("CdtrAgt", None, e("FinInstnId", None, e("BICFI", creditor.bic))),
        e("ChrgBr", "SLEV"),
        e("CdtrSchmeId", None, e("Id", None, e("PrvtId", None, e("Othr", None,
          e("Id", creditor.identifier), e("SchmeNm", None, e("Prtry", "SEPA")))))),
    ]  # fmt: skip


def _tx(etree, e2e, amount, reference, signed, name, iban, bic, remittance):
    e = lambda *a: _e(etree, *a)  # noqa: E731
    amount_el = e("InstdAmt", f"{amount:.2f}")
    amount_el.set("Ccy", "EUR")
    agent = (
        e("FinInstnId", None, e("BICFI", bic))
        if bic
        else e("FinInstnId", None, e("Othr", None, e("Id", "NOTPROVIDED")))
    )
    return e(
        "DrctDbtTxInf", None, e("PmtId", None, e("EndToEndId", e2e)), amount_el,
        e("DrctDbtTx", None, e("MndtRltdInf", None, e("MndtId", reference),
                                e("DtOfSgntr", str(signed)))),
        e("DbtrAgt", None, agent), e("Dbtr", None, e("Nm", name)),
        e("DbtrAcct", None, e("Id", None, e("IBAN", iban))),
        e("RmtInf", None, e("Ustrd", remittance)),
    )  # fmt: skip


def _transactions(path: str) -> str:
    """A digest of the transactions of a file: end-to-end id, amount, IBAN, mandate."""
    from lxml import etree

    digest = hashlib.sha256()
    for _event, tx in etree.iterparse(path, tag=f"{{{NS}}}DrctDbtTxInf", huge_tree=True):
        digest.update(
            "|".join(
                tx.findtext(f".//{{{NS}}}{tag}") or ""
                for tag in ("EndToEndId", "InstdAmt", "IBAN", "MndtId")
            ).encode()
        )
        tx.clear()
    return digest.hexdigest()


def _reset_peak() -> None:
    """Start this process's peak-memory count afresh (Linux: ``clear_refs`` 5 resets VmHWM), so
    that what it reports is its own work, not what the forked parent held."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def _peak_mib() -> float:
    """VmHWM, the peak resident memory since the reset, in MiB."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mib()


def _in_process(target, *args):
    from django.db import connections

    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(target, queue, *args))
    proc.start()
    result = queue.get()
    proc.join()
    if isinstance(result, str):  # the child's traceback
        raise RuntimeError(f"{target.__name__} failed:\n{result}")
    return result


def _child(target, queue, *args) -> None:
    import traceback

    from django.db import connections

    connections.close_all()
    _reset_peak()
    try:
        target(queue, *args)
    except BaseException:
        queue.put(traceback.format_exc())


def main(argv: list[str] | None = None) -> list[Result]:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-sepa-"))
    _url, drop = generated_database(
        args.database_url, workdir, "sepa", members=args.debits, seed=args.seed
    )
    from django.db import connection

    vendor = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    try:
        began = time.perf_counter()
        batch_id = build_batch()
        print(f"{vendor}: batch built in {time.perf_counter() - began:.0f} s", flush=True)
        files = workdir / "files"
        files.mkdir()
        _in_process(_raw, batch_id, str(files))  # warm the pages both sides read
        raw = _in_process(_raw, batch_id, str(files))
        ours = _in_process(_ours, batch_id, str(files))
        assert ours[0] == raw[0] > 0, (ours[0], raw[0])
        assert _transactions(ours[3]) == _transactions(raw[3]), "the two files differ"
        size = os.path.getsize(ours[3]) / 2**20
        print(
            f"  {ours[0]:,} debits, file {size:.0f} MiB; peak memory: ours {ours[2]:.0f} MiB, "
            f"raw {raw[2]:.0f} MiB"
        )
        print(
            "RESULT-EXTRA "
            + json.dumps({"debits": ours[0], "rss_ours": ours[2], "rss_raw": raw[2]})
        )
        return [
            report(
                Result.of(
                    f"sepa_batch pain.008, {ours[0]:,} debits, {vendor}",
                    ours[0] / ours[1],
                    raw[0] / raw[1],
                    "debits/s",
                    ">= 0.5",
                )
            ),
            report(
                Result.of(
                    f"sepa_batch peak memory, {ours[0]:,} debits, {vendor}",
                    ours[2],
                    raw[2],
                    "MiB",
                    "",
                )
            ),
        ]
    finally:
        drop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
