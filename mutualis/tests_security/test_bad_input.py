"""Bad input on every form of every covered page: property-based (hypothesis) posts of
100,000-character strings, NUL bytes, right-to-left and emoji text, markup, malformed dates,
negative and huge numbers, oversized and mislabelled uploads. No answer is a server error; a
refused post writes nothing; markup sent back in a page is escaped.

The forms are found in the pages themselves (each covered page, as the persona that may open
it), so a new form is attacked the day its page is covered; and in the pages reached only after
earlier steps (``tests_security.states``: the staff login's code, enrolment and recovery steps,
password forms behind a valid link, every step of the subscription wizard, the back-office
records in each state). A value accepted is looked for, unescaped, in the page the post leads to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from mutualis.tests_security.pages_of_every_face import every_page
from mutualis.tests_security.states import every_state

pytestmark = pytest.mark.django_db

MARKUP = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
HOSTILE_TEXT = st.one_of(
    st.just("A" * 100_000),
    st.just("nul\x00octet"),
    st.just("\u202eenilno\u202c \u05e9\u05dc\u05d5\u05dd 👩‍👩‍👧 ☃"),
    st.just(MARKUP),
    st.just("31/02/2026"),
    st.just("2026-13-45T25:61"),
    st.just("-1"),
    st.just("99999999999999999999999999"),
    st.just("1e308"),
    st.just(""),
    st.text(max_size=40),
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00 not a pdf"
# Models whose rows a refused post may still add: logs of the refusal itself.
LOGS = {"audit.event", "audit.securityevent", "audit.disclosure", "sessions.session"}


class _Forms(HTMLParser):
    """The POST forms of a page: their action and their fields (name, kind, choices)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._form = {
                "action": attrs.get("action") or "",
                "fields": {},
                "multipart": "multipart" in (attrs.get("enctype") or ""),
            }
            self.forms.append(self._form)
        if self._form is None or not attrs.get("name"):
            if tag == "option" and self._form is not None and self._select:
                self._form["fields"][self._select]["choices"].append(attrs.get("value", ""))
            return
        name = attrs["name"]
        if name == "csrfmiddlewaretoken":
            return
        if tag == "select":
            self._select = name
            self._form["fields"][name] = {"kind": "choice", "choices": []}
        elif tag == "textarea":
            self._form["fields"][name] = {"kind": "text"}
        elif tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "hidden"):
                self._form["fields"].setdefault(
                    name, {"kind": "fixed", "value": attrs.get("value", "")}
                )
            elif kind in ("checkbox", "radio"):
                field = self._form["fields"].setdefault(name, {"kind": "choice", "choices": []})
                field.setdefault("choices", []).append(attrs.get("value", "on"))
            elif kind == "file":
                self._form["fields"][name] = {"kind": "file"}
            else:
                self._form["fields"][name] = {"kind": "text"}

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        if tag == "select":
            self._select = None


@dataclass(frozen=True)
class Target:
    """One form to attack: where it was found, by whom, and how to get there again."""

    name: str
    persona: str
    action: str
    form: dict
    prepare: Callable  # (client, world): the state the form needs, before each attempt


def _covered(case) -> Callable:
    def reach(client, world) -> str:
        if case.setup is not None:
            case.setup(client, world)
        return world.url(case)

    return reach


def _pages() -> list[tuple[str, str, Callable, bool]]:
    """(name, persona, reach, is a state) of every covered page and every state; ``reach``
    prepares a client and returns the page's path."""
    pages = [(route.name, persona, _covered(case), False) for route, case, persona in every_page()]
    pages += [(f"{s.name} ({s.label})", s.persona, s.reach, True) for s in every_state()]
    return pages


def _forms_of_every_page(world) -> tuple[list[Target], list[str]]:
    """Every POST form with a named field; and the states that showed no form at all."""
    found, seen, unreached = [], set(), []
    for name, persona, reach, is_state in _pages():
        client = world.client_as(persona)
        url = reach(client, world)
        response = client.get(url)
        forms = []
        if "text/html" in response.get("Content-Type", ""):
            parser = _Forms()
            parser.feed(response.content.decode())
            forms = parser.forms
        for form in forms:
            action = form["action"] or url
            # A form with nothing named posts nothing to attack (a lone button).
            if form["fields"] and (persona, action) not in seen:
                seen.add((persona, action))
                found.append(Target(name, persona, action, form, reach))
        if is_state and not forms:
            unreached.append(f"{name}: {response.status_code} {response.get('Location', '')}")
    return found, unreached


def _counts() -> dict[str, int]:
    """Rows per table the project writes (an unmanaged table, such as the database cache's,
    may not exist under the settings of the test)."""
    return {
        model._meta.label_lower: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.managed
        and model._meta.label_lower not in LOGS
        and not model._meta.label_lower.startswith("axes.")
    }


def _value(draw, field):
    if field["kind"] == "fixed":  # a hidden field or a button's value: tampered with too
        return draw(st.one_of(st.just(field["value"]), HOSTILE_TEXT))
    if field["kind"] == "choice":
        return draw(st.one_of(st.sampled_from(field["choices"] or [""]), HOSTILE_TEXT))
    if field["kind"] == "file":
        return draw(
            st.sampled_from(
                [
                    SimpleUploadedFile("lettre.pdf", EXE, "application/pdf"),
                    SimpleUploadedFile(
                        "gros.pdf",
                        b"%PDF-1.4\n" + b"0" * (settings.MUTUALIS_UPLOAD_MAX_BYTES + 1),
                        "application/pdf",
                    ),
                ]
            )
        )
    return draw(HOSTILE_TEXT)


def _attack(world, target: Target, failures: list[str]):
    """One property per form: whatever the fields hold, the answer is sound."""
    name, action = target.name, target.action

    @hypothesis_settings(
        max_examples=6,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def attack(data):
        post = {field: _value(data.draw, spec) for field, spec in target.form["fields"].items()}
        client = world.client_as(target.persona, raise_request_exception=False)
        target.prepare(client, world)
        before = _counts()
        response = client.post(action, post)
        if response.status_code >= 500:
            shapes = {
                k: (v[:20] + f"…({len(v)})") if isinstance(v, str) else type(v).__name__
                for k, v in post.items()
            }
            failures.append(f"{name} ({action}): {response.status_code} for {shapes}")
            return
        body = _html(response)
        refused = response.status_code != 302 and (
            "errorlist" in body or "error-summary" in body or response.status_code >= 400
        )
        if refused and _counts() != before:
            changed = sorted(k for k, v in _counts().items() if before.get(k) != v)
            failures.append(f"{name} ({action}): refused yet wrote {changed}")
        if UNESCAPED in body:
            failures.append(f"{name} ({action}): markup written back unescaped")
        # Accepted: the value may be shown on the page the post leads to (stored).
        location = response.get("Location", "") if response.status_code == 302 else ""
        if location.startswith("/") and UNESCAPED in _html(client.get(location)):
            failures.append(f"{name} ({action}): markup shown unescaped at {location}")

    return attack


UNESCAPED = "<script>alert(1)</script>"


def _html(response) -> str:
    if "html" not in response.get("Content-Type", ""):
        return ""
    return response.content.decode(errors="replace")


def test_every_form_survives_hostile_input_without_error_partial_write_or_unescaped_markup(world):
    targets, unreached = _forms_of_every_page(world)
    assert not unreached, "states that did not reach their form:\n" + "\n".join(unreached)
    # The forms only reachable after earlier steps are among those attacked.
    attacked = {t.name for t in targets}
    behind_steps = {
        "backoffice:login_code",
        "backoffice:login_recovery",
        "backoffice:enrol",
        "backoffice:invitation",
        "portal:activate",
        "portal:password_reset_confirm",
        "web:subscription:beneficiary",
    }
    assert behind_steps <= {name.split(" (")[0] for name in attacked}
    walked = [name for name in attacked if name.startswith("web:subscription:step (walked")]
    assert len(walked) >= 6, walked
    assert len(targets) >= 60
    failures: list[str] = []
    for target in targets:
        _attack(world, target, failures)()
    assert not failures, "\n".join(sorted(set(failures)))
