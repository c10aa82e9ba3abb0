"""Shared checks for the back-office tests."""

from __future__ import annotations

import html

from stdnum import iban as stdnum_iban

from mutualis.backoffice.members.reveal import format_nir


def full_values(member) -> list[str]:
    """Every clear form of the member's NIR and IBAN that a page must not contain."""
    nir = member.person.nir
    iban = member.mandates.get().iban
    return [nir, format_nir(nir), iban, stdnum_iban.format(iban)]


def assert_no_full_nir_or_iban(response, *members) -> None:
    body = html.unescape(response.content.decode())
    squeezed = "".join(body.split())
    for member in members:
        for value in full_values(member):
            assert value not in body
            assert "".join(value.split()) not in squeezed
