"""Writing an acknowledgement file as a scheme organisation would (tests, demo, and to check
the format by hand): every line of an outbound file accepted, except those given as rejected."""

from __future__ import annotations

from pathlib import Path

from django.utils import timezone

from mutualis.recipients.exchange import format as fmt

# Reject codes of the acknowledgement (docs/scheme_exchange.md).
REJECT_CODES = {
    "001": "NIR inconnu du regime",
    "002": "Date de naissance discordante",
    "003": "Personne non rattachee a cette caisse",
    "004": "Periode de couverture incoherente",
    "005": "Deja couvert par un autre organisme complementaire",
    "099": "Autre motif",
}


def acknowledge(
    outbound: Path, destination: Path, *, rejected: dict[int, str] | None = None
) -> Path:
    """Write the acknowledgement of ``outbound`` to ``destination``; ``rejected`` maps a line
    number to its reject code. Returns the path written."""
    data = Path(outbound).read_bytes()
    records = fmt.split_records(data, fmt.OUTBOUND_FORMAT)
    header = records[0][1]
    rejected = rejected or {}
    parts = [
        fmt.render(
            fmt.ACK_FORMAT,
            fmt.HEADER,
            format=fmt.ACK_FORMAT,
            version=fmt.VERSION,
            sender=header["receiver"],
            receiver=header["sender"],
            sequence=header["sequence"],
            file_sha256=fmt.sha256(data),
            created_at=timezone.localtime().replace(tzinfo=None),
        )
    ]
    accepted = refused = 0
    for _number, fields in records[1:-1]:
        line = int(fields["line"])
        code = rejected.get(line, "")
        parts.append(
            fmt.render(
                fmt.ACK_FORMAT,
                fmt.ACK_LINE,
                line=line,
                result="R" if code else "A",
                code=code,
                label=REJECT_CODES.get(code, "") if code else "",
            )
        )
        refused += bool(code)
        accepted += not code
    body = "".join(parts).encode(fmt.ENCODING)
    end = fmt.trailer(
        fmt.ACK_FORMAT, body, records=len(parts) + 1, accepted=accepted, rejected=refused
    )
    Path(destination).write_bytes(body + end.encode(fmt.ENCODING))
    return Path(destination)
