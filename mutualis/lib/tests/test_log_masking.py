"""Every NIR-shaped value is masked in the logs: with or without its key, however it is grouped,
in a query string as a server's request log writes it, whatever logger writes it."""

from __future__ import annotations

import io
import logging
import re

from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from mutualis.lib.logging import RedactPersonalDataFilter, redact

GROUPS = (1, 2, 2, 2, 3, 3)  # sex, year, month, department, commune, order; then the key
SEPARATORS = ["", " ", ".", "-", "+", "%20", "%2B", "%2D", "%2E"]


@st.composite
def nir_bodies(draw) -> list[str]:
    """The groups of a NIR-shaped value: first digit 1–8, Corsica's 2A/2B possible."""
    digits = st.text("0123456789", min_size=1, max_size=1)
    groups = [draw(st.sampled_from("12345678"))]
    for size in GROUPS[1:]:
        groups.append("".join(draw(digits) for _ in range(size)))
    if draw(st.booleans()):
        groups[3] = draw(st.sampled_from(["2A", "2B", "2a", "2b"]))
    return groups


@given(
    groups=nir_bodies(),
    key=st.one_of(st.just(""), st.text("0123456789", min_size=2, max_size=2)),
    separator=st.sampled_from(SEPARATORS),
    before=st.sampled_from(["q=", "?q=", "q=Martin+", "q=Martin%20", "nir ", '"', "("]),
    after=st.sampled_from(["", " HTTP/1.1", "&page=2", '"', ")", "%20Martin"]),
)
def test_a_nir_with_or_without_its_key_never_reaches_a_log_line(
    groups, key, separator, before, after
):
    value = separator.join([*groups, key] if key else groups)
    line = f"GET /gestion/adherents/{before}{value}{after}"
    cleaned = redact(line)
    assert "[NIR masqué]" in cleaned
    compact = "".join(groups) + key
    assert compact.upper() not in re.sub(r"[\s.+\-]|%2[0BbDdEe]", "", cleaned).upper()


def test_the_values_the_probe_found_are_masked():
    assert redact("GET /gestion/adherents/?q=2951099126111 HTTP/1.1") == (
        "GET /gestion/adherents/?q=[NIR masqué] HTTP/1.1"
    )
    assert redact("q=4+95+10+99+126+111+93") == "q=[NIR masqué]"
    assert redact("iban=BE68+5390+0754+7034") == "iban=[IBAN masqué]"


def test_ordinary_numbers_are_left_alone():
    for text in ["tel 0612345678", "A123456789", "12345678-1234-1234-1234-123456789012", "2026"]:
        assert redact(text) == text


def test_ids_are_left_whole_and_an_iban_or_a_nir_beside_one_is_still_masked():
    # Its groups read as an IBAN shape (DE64 4169 8478 7123 3730 14E4).
    uid = "a68c3dcb-de64-4169-8478-7123373014e4"
    assert redact(f"GET /gestion/adherents/{uid}/ HTTP/1.1") == (
        f"GET /gestion/adherents/{uid}/ HTTP/1.1"
    )
    assert redact(f"{uid} FR7630006000011234567890189 {uid}") == f"{uid} [IBAN masqué] {uid}"
    assert redact(f"{uid}?q=2951099126111") == f"{uid}?q=[NIR masqué]"
    # Not an id: one hexadecimal digit more is read as before.
    longer = uid + "f"
    assert redact(longer) != longer


@given(st.uuids())
def test_no_id_is_ever_masked(uid):
    assert redact(f"/espace/messages/{uid}/") == f"/espace/messages/{uid}/"


def _configured_handlers() -> list[logging.Handler]:
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in settings.LOGGING["loggers"])]
    # pytest's own capture handlers aside: they are the test runner's, not the product's.
    return [
        handler
        for logger in loggers
        for handler in logger.handlers
        if not type(handler).__module__.startswith("_pytest")
    ]


def test_every_configured_handler_masks_personal_data():
    assert set(settings.LOGGING["handlers"]) and all(
        "redact" in handler.get("filters", []) for handler in settings.LOGGING["handlers"].values()
    )
    handlers = _configured_handlers()
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, RedactPersonalDataFilter) for f in handler.filters), handler


def test_the_server_request_log_masks_a_nir_typed_in_a_query_string():
    """What the development server writes for each request (the probe's finding)."""
    logger = logging.getLogger("django.server")
    handler = next(h for h in logger.handlers if isinstance(h, logging.StreamHandler))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        logger.info('"%s" %s %s', "GET /gestion/adherents/?q=2+95+10+99+126+111 HTTP/1.1", 200, 0)
    finally:
        handler.setStream(previous)
    written = stream.getvalue()
    assert "[NIR masqué]" in written and "126" not in written
