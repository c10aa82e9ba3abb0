"""The portability archive (GDPR art. 20): the data the person provided, processed on contract
or consent, as JSON and CSV files in a zip. The format is documented in ``docs/portability.md``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

from django.utils import timezone

from mutualis.privacy import catalogue
from mutualis.rights.export.access import controller
from mutualis.rights.export.labels import PORTABILITY_SCHEMA_VERSION
from mutualis.rights.export.plan import BINARY, CHOICE
from mutualis.rights.export.reading import ExportState, walk

CSV_COLUMNS = (
    "record_type",
    "record_type_label",
    "record_id",
    "holder",
    "holder_name",
    "field",
    "label",
    "type",
    "value",
    "value_label",
)


def portability_archive(person) -> bytes:
    """A zip of the data ``person`` provided, processed on contract or consent (GDPR art. 20):
    per category ``<code>.json`` and ``<code>.csv``, the files themselves under ``files/``, and
    ``manifest.json``. The schema is documented in ``docs/portability.md``.
    """
    state = ExportState(person, portable=True)
    generated_at = timezone.localtime().replace(microsecond=0)
    by_category: dict[str, list[dict]] = {}
    files: dict[str, bytes] = {}
    walked, _none, _nothing = walk(state)
    for plan, rows in walked:
        for index, (pk, holder) in enumerate(zip(rows.pks, rows.holders, strict=True)):
            for group, by_row, _erased in rows.groups:
                values = by_row[index]
                record = {
                    "record_type": plan.code,
                    "record_type_label": plan.label,
                    "record_id": pk,
                    "holder": "beneficiary" if holder.beneficiary else "self",
                    "holder_name": holder.name,
                    "fields": [],
                }
                by_category.setdefault(group.category.code, []).append(record)
                for f in group.fields:
                    value, label = values[f.name], ""
                    if f.kind == CHOICE:
                        label = f.choices.get(value, "")
                    elif f.kind == BINARY and value is not None:
                        path = f"files/{pk}/{f.name}"
                        files[path] = value.pop("content")
                        value["path"] = path
                    record["fields"].append(
                        {
                            "field": f.name,
                            "label": f.label,
                            "type": f.type_name,
                            "value": value,
                            "value_label": label,
                        }
                    )
    return _zip(by_category, files, generated_at, person)


def _csv(records: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        for item in record["fields"]:
            value = item["value"]
            if isinstance(value, list | dict):
                value = json.dumps(value, ensure_ascii=False, sort_keys=True)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            elif value is None:
                value = ""
            writer.writerow(
                [
                    *(record[c] for c in CSV_COLUMNS[:5]),
                    item["field"],
                    item["label"],
                    item["type"],
                    value,
                    item["value_label"],
                ]
            )
    return out.getvalue().encode("utf-8")


def _zip(by_category, files, generated_at, person) -> bytes:
    labels = {c.code: c.label for c in catalogue.ALL_CATEGORIES}
    order = [c.code for c in catalogue.ALL_CATEGORIES]
    contents: list[tuple[str, bytes, dict]] = []
    for code in sorted(by_category, key=lambda c: order.index(c) if c in order else len(order)):
        records = by_category[code]
        document = {
            "schema_version": PORTABILITY_SCHEMA_VERSION,
            "category": code,
            "category_label": labels.get(code, code),
            "records": records,
        }
        info = {"category": code, "category_label": labels.get(code, code), "records": len(records)}
        body = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2).encode()
        contents.append((f"{code}.json", body, {**info, "format": "json"}))
        contents.append((f"{code}.csv", _csv(records), {**info, "format": "csv"}))
    for path, content in sorted(files.items()):
        contents.append((path, content, {"format": "file"}))
    manifest = {
        "schema_version": PORTABILITY_SCHEMA_VERSION,
        "generated_at": generated_at.isoformat(),
        "controller": controller(),
        "subject": {"id": str(person.pk), "name": person.full_name},
        "legal_basis": "RGPD art. 20 : données fournies par vous, traitées sur la base de votre "
        "contrat ou de votre consentement",
        "files": [
            {"name": name, **info, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            for name, body, info in contents
        ],
    }
    stamp = generated_at.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in [("manifest.json", _dumps(manifest)), *[(n, b) for n, b, _ in contents]]:
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), body, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2).encode("utf-8")
