"""A subscription application (adhésion) and its validation.

The online form and the bulk import fill the same :class:`Application` and call the same
:func:`check_application`, so a row is accepted by the import exactly when the form would accept
it. Staff adding one person to a running contract go through :func:`check_added_beneficiary`,
which applies the same rules to that beneficiary. Problems are reported per field, in French, and
never quote a NIR or an IBAN.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from mutualis.contracts.models import CguVersion, Offer
from mutualis.members import validators
from mutualis.members.models import BeneficiaryRole, Civility
from mutualis.members.services import PersonData, nir_is_registered
from mutualis.privacy.policy import current_version

ADULT_AGE = 18
MAX_CHILD_AGE = 28  # children stay covered while students, up to 28 (offer terms)
MIN_PARENT_GAP = 12  # a child is at least 12 years younger than the member
MAX_START_DELAY_DAYS = 180
# Django rebuilds ``Choices.values`` on each access; these rules run once per imported row.
_CIVILITIES = frozenset(Civility.values)
_ROLES = frozenset(BeneficiaryRole.values)
_COUPLE = frozenset({BeneficiaryRole.SPOUSE, BeneficiaryRole.PARTNER})
NIR_REGISTERED = (
    "Ce numéro de sécurité sociale est déjà enregistré auprès de la mutuelle. Si vous êtes déjà "
    "adhérent, connectez-vous à votre espace ; sinon, contactez-nous."
)
# The same refusal, worded for staff adding a beneficiary in the back office.
NIR_REGISTERED_STAFF = (
    "Ce numéro de sécurité sociale est déjà enregistré pour une autre personne : recherchez son "
    "dossier avant de l'ajouter."
)


@dataclass
class BeneficiaryApplication:
    role: str
    person: PersonData
    # A child may be attached to the member's NIR instead of having their own.
    attached_to_member_nir: bool = False


@dataclass
class PaymentApplication:
    iban: str
    bic: str
    debtor_name: str
    signed_place: str
    # A mandate taken over from the previous system keeps its signature date (the debits
    # quote it); a mandate signed online is signed now.
    signed_at: datetime.datetime | None = None


@dataclass(frozen=True)
class CommunicationChoice:
    """A box ticked at subscription: a topic on a channel, under the notice version shown."""

    topic: str
    channel: str
    notice_id: int | None = None


@dataclass
class Application:
    member: PersonData
    offer_code: str
    start_date: datetime.date
    payment: PaymentApplication
    beneficiaries: list[BeneficiaryApplication] = field(default_factory=list)
    cgu_version: str = ""
    policy_version_id: int | None = None
    legacy_reference: str | None = None
    # Communications the person chose at subscription (unticked boxes by default).
    communication: list[CommunicationChoice] = field(default_factory=list)


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


@dataclass(frozen=True)
class Lookups:
    """The database facts :func:`check_application` needs, fetched ahead for many applications.

    The bulk import checks thousands of applications: with these it asks the database once per
    batch (offers on sale, NIRs already registered) instead of a few times per row. Without them
    (the online form), :func:`check_application` asks the database itself. Same rules either way.
    """

    offer_codes: frozenset[str]
    nir_is_registered: Callable[[str], bool]


class ApplicationInvalid(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


def age_on(birth: datetime.date, day: datetime.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def check_identity(prefix: str, person: PersonData, today: datetime.date) -> list[Problem]:
    problems = []
    if person.civility not in _CIVILITIES:
        problems.append(Problem(f"{prefix}.civility", "Choisissez « Madame » ou « Monsieur »."))
    if not person.last_name.strip():
        problems.append(Problem(f"{prefix}.last_name", "Le nom est obligatoire."))
    elif len(person.last_name) > 100:
        problems.append(Problem(f"{prefix}.last_name", "Le nom compte 100 caractères au plus."))
    if not person.first_names.strip():
        problems.append(Problem(f"{prefix}.first_names", "Le prénom est obligatoire."))
    elif len(person.first_names) > 150:
        problems.append(
            Problem(f"{prefix}.first_names", "Les prénoms comptent 150 caractères au plus.")
        )
    if person.birth_date is None:
        problems.append(Problem(f"{prefix}.birth_date", "La date de naissance est obligatoire."))
    elif person.birth_date > today:
        problems.append(
            Problem(f"{prefix}.birth_date", "La date de naissance ne peut pas être dans le futur.")
        )
    elif person.birth_date.year < 1900:
        problems.append(Problem(f"{prefix}.birth_date", "La date de naissance est invalide."))
    return problems


def check_nir(
    prefix: str,
    person: PersonData,
    *,
    required: bool,
    lookups: Lookups | None = None,
    registered_message: str = NIR_REGISTERED,
) -> list[Problem]:
    if not person.nir:
        if required:
            return [Problem(f"{prefix}.nir", "Le numéro de sécurité sociale est obligatoire.")]
        return []
    try:
        validators.validate_nir(
            person.nir,
            birth_date=person.birth_date,
            civility=person.civility if person.civility in _CIVILITIES else None,
        )
    except ValidationError as exc:
        return [Problem(f"{prefix}.nir", _messages(exc))]
    registered = lookups.nir_is_registered if lookups is not None else nir_is_registered
    if registered(person.nir):
        return [Problem(f"{prefix}.nir", registered_message)]
    return []


def check_contact(person: PersonData) -> list[Problem]:
    problems = []
    try:
        validate_email(person.email)
    except ValidationError:
        problems.append(Problem("member.email", "Saisissez une adresse électronique valide."))
    if not person.address_line1.strip():
        problems.append(Problem("member.address_line1", "L'adresse est obligatoire."))
    if not person.city.strip():
        problems.append(Problem("member.city", "La commune est obligatoire."))
    try:
        validators.validate_postal_code(person.postal_code)
    except ValidationError as exc:
        problems.append(Problem("member.postal_code", _messages(exc)))
    for name in ("phone_landline", "phone_mobile"):
        value = getattr(person, name)
        if value:
            try:
                validators.validate_phone(value)
            except ValidationError as exc:
                problems.append(Problem(f"member.{name}", _messages(exc)))
    return problems


def check_scheme(person: PersonData) -> list[Problem]:
    try:
        validators.validate_scheme_code(
            person.scheme_regime, person.scheme_caisse, person.scheme_centre
        )
    except ValidationError as exc:
        return [Problem("member.scheme", _messages(exc))]
    return []


def check_beneficiary(
    index: int,
    beneficiary: BeneficiaryApplication,
    member: PersonData,
    today: datetime.date,
    *,
    lookups: Lookups | None = None,
) -> list[Problem]:
    """The rules one beneficiary of an application meets (``beneficiaries[<index>].<field>``)."""
    return _check_beneficiary(
        f"beneficiaries[{index}]", beneficiary, member, today, lookups=lookups
    )


def _check_beneficiary(
    prefix: str,
    beneficiary: BeneficiaryApplication,
    member: PersonData,
    today: datetime.date,
    *,
    lookups: Lookups | None = None,
    registered_message: str = NIR_REGISTERED,
) -> list[Problem]:
    problems = check_identity(prefix, beneficiary.person, today)
    if beneficiary.role not in _ROLES:
        problems.append(Problem(f"{prefix}.role", "Choisissez le lien avec l'adhérent."))
        return problems
    birth = beneficiary.person.birth_date
    if birth is not None and birth <= today:
        age = age_on(birth, today)
        if beneficiary.role == BeneficiaryRole.CHILD:
            if age >= MAX_CHILD_AGE:
                problems.append(
                    Problem(
                        f"{prefix}.birth_date",
                        f"Un enfant peut être couvert jusqu'à {MAX_CHILD_AGE} ans.",
                    )
                )
            if member.birth_date and age_on(member.birth_date, birth) < MIN_PARENT_GAP:
                problems.append(
                    Problem(
                        f"{prefix}.birth_date",
                        "La date de naissance de l'enfant n'est pas cohérente avec celle de "
                        "l'adhérent.",
                    )
                )
        elif age < ADULT_AGE:
            problems.append(
                Problem(f"{prefix}.birth_date", "Un conjoint ou partenaire doit être majeur.")
            )
    if beneficiary.attached_to_member_nir:
        if beneficiary.role != BeneficiaryRole.CHILD:
            problems.append(
                Problem(
                    f"{prefix}.nir",
                    "Seul un enfant peut être rattaché au numéro de sécurité sociale de "
                    "l'adhérent.",
                )
            )
        elif beneficiary.person.nir:
            problems.append(
                Problem(
                    f"{prefix}.nir",
                    "Un enfant rattaché au numéro de l'adhérent n'a pas de numéro propre.",
                )
            )
    else:
        problems += check_nir(
            prefix,
            beneficiary.person,
            required=True,
            lookups=lookups,
            registered_message=registered_message,
        )
    return problems


def check_household(roles: Iterable[str]) -> list[Problem]:
    """The rule on the people covered together: one spouse or partner at most."""
    if sum(1 for role in roles if role in _COUPLE) > 1:
        return [Problem("beneficiaries", "Un seul conjoint ou partenaire peut être couvert.")]
    return []


def check_added_beneficiary(
    beneficiary: BeneficiaryApplication, *, member: PersonData, covered_roles: Iterable[str]
) -> list[Problem]:
    """One person added to a running contract (back office): every rule a beneficiary meets at
    subscription, and the household's rule with the people the contract already covers.

    Problems are reported on ``beneficiary.<field>``, the household's on ``beneficiaries``.
    ``member`` needs only the member's birth date (a child's age gap).
    """
    today = timezone.localdate()
    problems = _check_beneficiary(
        "beneficiary", beneficiary, member, today, registered_message=NIR_REGISTERED_STAFF
    )
    problems += check_household([*covered_roles, beneficiary.role])
    return problems


def check_payment(payment: PaymentApplication) -> list[Problem]:
    problems = []
    try:
        validators.validate_iban(payment.iban)
    except ValidationError as exc:
        problems.append(Problem("payment.iban", _messages(exc)))
    if payment.bic:
        try:
            validators.validate_bic(payment.bic)
        except ValidationError as exc:
            problems.append(Problem("payment.bic", _messages(exc)))
    if not payment.debtor_name.strip():
        problems.append(Problem("payment.debtor_name", "Le titulaire du compte est obligatoire."))
    if not payment.signed_place.strip():
        problems.append(Problem("payment.signed_place", "Le lieu de signature est obligatoire."))
    return problems


def check_application(
    application: Application, *, imported: bool = False, lookups: Lookups | None = None
) -> list[Problem]:
    """Every rule of the subscription, in one place (form and import alike).

    An ``imported`` application comes from the legacy system: its contract may have started in
    the past, and the member accepted the terms there (the import records the version given).
    ``lookups`` replaces the per-application database queries by facts fetched ahead (bulk
    import); the rules are the same.
    """
    today = timezone.localdate()
    member = application.member
    problems = check_identity("member", member, today)
    if (
        member.birth_date
        and member.birth_date <= today
        and age_on(member.birth_date, today) < ADULT_AGE
    ):
        problems.append(Problem("member.birth_date", "L'adhérent doit être majeur."))
    problems += check_nir("member", member, required=True, lookups=lookups)
    problems += check_contact(member)
    problems += check_scheme(member)
    for index, beneficiary in enumerate(application.beneficiaries, start=1):
        problems += check_beneficiary(index, beneficiary, member, today, lookups=lookups)
    problems += check_household(b.role for b in application.beneficiaries)
    nirs = [validators.normalize_nir(p.nir) for p in _people(application) if p.nir]
    if len(nirs) != len(set(nirs)):
        problems.append(
            Problem("beneficiaries", "Un même numéro de sécurité sociale est saisi deux fois.")
        )
    if lookups is not None:
        offer_available = application.offer_code in lookups.offer_codes
    else:
        offer_available = Offer.objects.available().filter(code=application.offer_code).exists()
    if not offer_available:
        problems.append(Problem("offer", "Choisissez une formule proposée."))
    if (application.start_date < today and not imported) or (
        application.start_date - today
    ).days > MAX_START_DELAY_DAYS:
        problems.append(
            Problem(
                "start_date",
                f"La date d'effet doit être comprise entre aujourd'hui et {MAX_START_DELAY_DAYS} "
                "jours.",
            )
        )
    problems += check_payment(application.payment)
    if imported:
        return problems
    policy = current_version()
    cgu = CguVersion.objects.published().first()
    if cgu is None or application.cgu_version != cgu.slug:
        problems.append(
            Problem("acceptance.cgu", "Acceptez les conditions générales d'utilisation.")
        )
    if policy is None or application.policy_version_id != policy.pk:
        problems.append(
            Problem("acceptance.policy", "Acceptez la politique de confidentialité en vigueur.")
        )
    return problems


def _people(application: Application) -> list[PersonData]:
    return [application.member] + [b.person for b in application.beneficiaries]
