"""The access export for the HTML page (``rights/access_export.html``).

The page reads like a letter, not a dump: a summary of the categories first, then each category
folded (``<details>``), stating once what the law requires the mutuelle to say about it
(purposes, legal bases, recipients, retention) and then listing the values. Fields of one
category that share their information are grouped under one statement; the JSON export keeps its
own schema (information once per field, in ``declaration``)."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.formats import date_format

NOT_GIVEN = "néant"  # neutral in gender: "Date de fin : néant", "Téléphone : néant"


def display(value) -> str:
    """An exported value as a French reader expects it."""
    if value is None or value == "" or value == []:
        return NOT_GIVEN
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, list):
        return ", ".join(display(item) for item in value)
    if isinstance(value, dict):
        return f"{value.get('name') or 'fichier'} ({value.get('size', 0)} octets)"
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            if len(value) == 10:
                return date_format(datetime.date.fromisoformat(value), "j F Y")
            moment = datetime.datetime.fromisoformat(value)
            return date_format(timezone.localtime(moment), "j F Y à H:i")
        except ValueError:
            pass
    return str(value)


def entries(export: dict, record: dict) -> list[dict]:
    """The values of ``record``, in the declaration's order, each with its field's information
    (label, purposes, legal bases, recipients, retention, source) and code."""
    declared = export["declaration"][record["model_code"]]["fields"]
    values, erased = record["values"], record["erased"]
    return [
        {**info, "field_code": name, "value": values[name], "erased": name in erased}
        for name, info in declared.items()
        if name in values
    ]


_STATED = ("purposes", "legal_bases", "recipients", "retention")


def _freeze(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _statement_key(entry: dict) -> tuple:
    return tuple(_freeze(entry.get(name)) for name in _STATED)


def _statement(entry: dict) -> dict:
    return {name: entry.get(name) for name in _STATED}


def access_page_context(export: dict) -> dict:
    """The export with, for each record, its model's name and its ``entries`` (see
    :func:`entries`, each with a French ``display`` text), for ``rights/access_export.html``:
    ``{% include "rights/access_export.html" with access=... %}``.
    """
    categories = []
    for category in export["categories"]:
        records = []
        statements: dict[tuple, dict] = {}
        for record in category["records"]:
            rows = entries(export, record)
            for entry in rows:
                entry["display"] = display(entry["value"])
                key = _statement_key(entry)
                statement = statements.setdefault(key, {**_statement(entry), "fields": []})
                if entry["field"] not in statement["fields"]:
                    statement["fields"].append(entry["field"])
            model = export["declaration"][record["model_code"]]["model"]
            records.append({**record, "model": model, "entries": rows})
        values = sum(len(r["entries"]) for r in records)
        categories.append(
            {
                **category,
                "records": records,
                "statements": list(statements.values()),
                "value_count": values,
            }
        )
    events = [{**e, "display_at": display(e["at"])} for e in export["audit_log"]["events"]]
    disclosures = [{**d, "display_at": display(d["at"])} for d in export["disclosures"]]
    return {
        **export,
        "categories": categories,
        "audit_log": {**export["audit_log"], "events": events},
        "disclosures": disclosures,
        "display_generated_at": display(export["generated_at"]),
    }
