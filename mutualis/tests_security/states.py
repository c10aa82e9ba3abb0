"""Pages whose form shows only after earlier steps: the staff login's code, enrolment and
recovery steps (after the password), an invitation's and a member's password forms (after a
valid link), every step of the online subscription after the first (the wizard walked to it),
and the back-office records in each state that shows other acts (a requisition to decide, a
campaign to send...).

The covered pages (``mutualis.lib.pages``) are requested as they are; these are the same pages
reached the way a person reaches them, so that the bad-input and accessibility suites attack
and check their forms too. ``reach(client, world)`` brings a fresh client (already logged in as
the state's persona) to the page and returns its path; it is run again for every attempt, since
an attempt may spend what it prepared (a link once used, an account locked after wrong
codes): then the page says so, which is an answer to attack too.
"""

from __future__ import annotations

import datetime
import itertools
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from conftest import PASSWORD
from mutualis.tests_security import world as objects
from mutualis.tests_security.world import World


@dataclass(frozen=True)
class State:
    name: str  # the URL name of the page reached
    label: str  # what makes the state, in a few words
    persona: str  # who reaches it: anonymous, member, or a role of the role table
    reach: Callable[[Client, World], str]


# --- The staff login after the password --------------------------------------------------------
def _password_given(page: str, *, device: bool = True):
    """A staff member of their own per page (wrong codes lock one account out) who has just
    given the password: the code, recovery or enrolment step comes next."""

    def reach(client: Client, world: World) -> str:
        def build(w: World):
            from mutualis.members.models import User, UserKind

            email = f"{page.split(':')[1].replace('_', '-')}@suite.example"
            if device:
                return w._new_staff("gestion", email)
            return User.objects.create_user(
                email=email, password=PASSWORD, kind=UserKind.STAFF, role="gestion"
            )

        account = world.get(("logging_in", page), build)
        client.post(reverse("backoffice:login"), {"username": account.email, "password": PASSWORD})
        return reverse(page)

    return reach


def _invited(client: Client, world: World) -> str:
    """The set-password form of a valid invitation (its token leaves the address first)."""
    from mutualis.backoffice.auth.invitation import invitation_url
    from mutualis.staff import accounts

    def invite(w: World) -> str:
        links: list[str] = []

        def link_for(uidb64: str, token: str) -> str:
            links.append(invitation_url(uidb64, token))
            return links[-1]

        accounts.invite(
            email="invitee@suite.example",
            display_name="Invitée",
            role="gestion",
            actor=w.staff("admin"),
            link_for=link_for,
        )
        return urlsplit(links[0]).path

    link = world.get("invitation_link", invite)
    return client.get(link).get("Location", link)


def _member_link(page: str):
    """alice's set-password form behind a valid activation or reset link."""

    def reach(client: Client, world: World) -> str:
        account = world.alice.account
        kwargs = {
            "uidb64": urlsafe_base64_encode(force_bytes(account.pk)),
            "token": default_token_generator.make_token(account),
        }
        link = reverse(page, kwargs=kwargs)
        return client.get(link).get("Location", link)

    return reach


# --- The online subscription, walked -----------------------------------------------------------
BIRTH = datetime.date(1985, 4, 12)
_walks = itertools.count(1)


def _steps(seed: int) -> list[tuple[str, dict]]:
    """Valid answers to every step, in order, for a new person each walk (a NIR is taken once)."""
    from mutualis.members.testing import make_french_iban, make_nir
    from mutualis.members.validators import CIVILITY_FEMALE

    rng = random.Random(f"walk-{seed}")  # noqa: S311 (fictitious data, not the personas)
    today = timezone.localdate()
    return [
        (
            "identite",
            {
                "civility": CIVILITY_FEMALE,
                "last_name": "Nouvelle",
                "first_names": "Adhérente",
                "birth_date": BIRTH.strftime("%d/%m/%Y"),
                "nir": make_nir(civility=CIVILITY_FEMALE, birth_date=BIRTH, rng=rng),
            },
        ),
        (
            "coordonnees",
            {
                "address_line1": "12 rue des Lilas",
                "postal_code": "75011",
                "city": "Paris",
                "email": f"nouvelle-{seed}@example.org",
                "phone_mobile": "06 12 34 56 78",
            },
        ),
        (
            "regime-obligatoire",
            {"regime": "01", "caisse": "751", "centre": "0001", "organisation": "CPAM de Paris"},
        ),
        (
            "beneficiaires",
            {
                "action": "add",
                "role": "child",
                "civility": "M",
                "last_name": "Nouvelle",
                "first_names": "Léo",
                "birth_date": datetime.date(today.year - 8, 3, 15).isoformat(),
                "attached": "on",
            },
        ),
        ("beneficiaires", {"action": "continue"}),
        (
            "paiement",
            {
                "debtor_name": "Adhérente Nouvelle",
                "iban": make_french_iban(rng),
                "signed_place": "Paris",
                "mandate": "on",
            },
        ),
        ("formule", {"offer": "confort", "start_date": today.isoformat()}),
        ("conditions", {"accept_cgu": "on", "accept_policy": "on"}),
    ]


def _walked_to(slug: str, *, beneficiary: int | None = None):
    """The wizard walked with valid answers up to ``slug`` (or to a beneficiary's own form)."""

    def reach(client: Client, world: World) -> str:
        from mutualis.privacy import policy

        world.get("policy", lambda w: policy.publish()[0])  # the conditions step needs one
        client.post(reverse("web:subscription:start"))
        steps = _steps(next(_walks))
        stop = next((i for i, (step, _data) in enumerate(steps) if step == slug), len(steps))
        if beneficiary is not None:
            stop += 1  # the child added
        for step, data in steps[:stop]:
            answer = client.post(reverse("web:subscription:step", args=[step]), data)
            assert answer.status_code == 302, (
                f"the subscription stopped at {step}: {answer.status_code} "
                + ",".join(re.findall(r"<li>(.*?)</li>", answer.content.decode()))[:300]
            )
        if beneficiary is not None:
            return reverse("web:subscription:beneficiary", args=[beneficiary])
        return reverse("web:subscription:step", args=[slug])

    return reach


# --- Back-office records in the state that shows their acts ------------------------------------
def _record(name: str, kwarg: str, build: Callable[[World], object]):
    def reach(client: Client, world: World) -> str:
        return reverse(name, kwargs={kwarg: build(world).pk})

    return reach


def _requisition(state: str):
    return _record(
        "backoffice:requisition_detail",
        "requisition_id",
        lambda w: objects.requisition(w, state),
    )


def _campaign(state: str):
    return _record(
        "backoffice:campaign_detail", "campaign_id", lambda w: objects.campaign(w, state)
    )


STATES = [
    State(
        "backoffice:login_code",
        "the password given",
        "anonymous",
        _password_given("backoffice:login_code"),
    ),
    State(
        "backoffice:login_recovery",
        "the password given",
        "anonymous",
        _password_given("backoffice:login_recovery"),
    ),
    State(
        "backoffice:enrol",
        "the password given, no app yet (QR code)",
        "anonymous",
        _password_given("backoffice:enrol", device=False),
    ),
    State("backoffice:invitation", "a valid invitation", "anonymous", _invited),
    State("portal:activate", "a valid link", "anonymous", _member_link("portal:activate")),
    State(
        "portal:password_reset_confirm",
        "a valid link",
        "anonymous",
        _member_link("portal:password_reset_confirm"),
    ),
    *(
        State("web:subscription:step", f"walked to {slug}", "anonymous", _walked_to(slug))
        for slug in (
            "coordonnees",
            "regime-obligatoire",
            "beneficiaires",
            "paiement",
            "formule",
            "conditions",
            "recapitulatif",
        )
    ),
    State(
        "web:subscription:beneficiary",
        "a child added",
        "anonymous",
        _walked_to("beneficiaires", beneficiary=1),
    ),
    State("backoffice:requisition_detail", "received", "dpo", _requisition("received")),
    State("backoffice:requisition_detail", "approved", "dpo", _requisition("approved")),
    State("backoffice:requisition_detail", "secret", "dpo", _requisition("secret")),
    State("backoffice:campaign_detail", "draft", "communication", _campaign("draft")),
    State("backoffice:campaign_detail", "paused", "communication", _campaign("paused")),
    State("backoffice:campaign_detail", "by post", "communication", _campaign("post_sending")),
    State(
        "backoffice:campaign_detail",
        "handed to the printer",
        "communication",
        _campaign("post_handed"),
    ),
]


def every_state() -> Iterator[State]:
    yield from STATES
