"""Member search: by name, member number or e-mail; by NIR only through the blind index."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from mutualis.audit.services import holds_nir_or_iban
from mutualis.backoffice import services
from mutualis.members.models import Beneficiary, Member, Person, User
from mutualis.members.roles import visible_categories
from mutualis.members.validators import normalize_nir
from mutualis.privacy import catalogue

MAX_RESULTS = 50
MAX_TERMS = 5
# A word of the name shorter than this is matched as a whole name ("Li", "Ng"), not as a part of
# one: two letters are part of too many names, and no trigram index can serve them.
MIN_PART = 3
# A NIR as typed, spaces removed: 13 characters without the key, or 15 with it.
_NIR_SHAPE = re.compile(r"[1-478]\d{4}(?:\d{2}|2A|2B)\d{6}(?:\d{2})?")
_MEMBER_NUMBER = re.compile(r"A\d{9}")


def looks_like_nir(text: str) -> bool:
    return bool(_NIR_SHAPE.fullmatch(normalize_nir(text)))


def must_stay_out_of_urls(text: str) -> bool:
    """A NIR (even without its key) or an IBAN: never in a URL, a log or a page."""
    return looks_like_nir(text) or holds_nir_or_iban(text)


def may_search_by_nir(user: User) -> bool:
    """Only a service that sees administrative data may look a person up by NIR."""
    return catalogue.ADMINISTRATIVE in visible_categories(user.role)


@dataclass
class SearchOutcome:
    members: list[Member] = field(default_factory=list)
    by_nir: bool = False
    truncated: bool = False
    error: str = ""
    searched: bool = False


def members_matching(text: str, *, user: User) -> QuerySet[Member]:
    """Members whose number is ``text`` (exact), whose e-mail contains it, or whose name —
    or a beneficiary's — contains every word of it (case-insensitive). A member number is
    looked up as such only, a text with an @ as an e-mail only, several words as a name only; a
    word of one or two letters matches a whole name.

    Written as a union of index lookups (people by name or e-mail, then their members and
    households), so that PostgreSQL answers it from the trigram indexes of ``members`` and the
    keys, never by scanning every member.
    """
    text = text.strip()
    words = text.split()[:MAX_TERMS]
    if not words:
        return Member.objects.none()
    if _MEMBER_NUMBER.fullmatch(text.upper()):  # a member number is nothing else
        matching = [Member.objects.filter(number=text.upper()).values("pk")]
    else:
        matching = []
        if "@" not in text:  # no name holds an @
            name = Q()
            for word in words:
                if len(word) < MIN_PART:  # too short to be part of a name: a whole name
                    name &= Q(last_name__iexact=word) | Q(first_names__iexact=word)
                else:
                    name &= Q(last_name__icontains=word) | Q(first_names__icontains=word)
            named = Person.objects.filter(name).values("pk")
            matching += [
                Member.objects.filter(person__in=named).values("pk"),
                Beneficiary.objects.filter(person__in=named).order_by().values("member_id"),
            ]
        if len(words) == 1:  # no e-mail address holds a space
            by_email = Person.objects.filter(email__icontains=text).values("pk")
            matching.append(Member.objects.filter(person__in=by_email).values("pk"))
    return (
        Member.objects.visible_to(user)
        .filter(pk__in=matching[0].union(*matching[1:]))
        .select_related("person")
        .order_by("person__last_name", "person__first_names", "number")
    )


def search(text: str, *, user: User, nir_allowed: bool) -> SearchOutcome:
    """Run a search typed by a staff member.

    ``nir_allowed`` is false when the text came in a URL (GET): a NIR there is refused rather
    than looked up, so the back office never invites putting one in an address.
    """
    if looks_like_nir(text):
        if not nir_allowed:
            return SearchOutcome(
                error="Pour rechercher par numéro de sécurité sociale, utilisez le formulaire "
                "de recherche : ce numéro ne doit jamais figurer dans une adresse de page."
            )
        if not may_search_by_nir(user):
            return SearchOutcome(
                error="Votre service n'a pas accès au numéro de sécurité sociale : recherchez "
                "par nom, numéro d'adhérent ou adresse électronique."
            )
        if len(normalize_nir(text)) != 15:
            return SearchOutcome(
                error="Saisissez le numéro de sécurité sociale complet : 15 caractères, clé "
                "comprise."
            )
        members = services.find_members_by_nir(nir=text, actor=user)
        return SearchOutcome(members=members, by_nir=True, searched=True)
    if holds_nir_or_iban(text):
        return SearchOutcome(
            error="La recherche par IBAN n'est pas proposée, et un numéro de sécurité sociale "
            "se saisit seul : recherchez par nom, numéro d'adhérent ou adresse électronique."
        )
    found = list(members_matching(text, user=user)[: MAX_RESULTS + 1])
    return SearchOutcome(
        members=found[:MAX_RESULTS], truncated=len(found) > MAX_RESULTS, searched=True
    )
