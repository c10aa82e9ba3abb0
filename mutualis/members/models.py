"""The person: identity, contact details, NIR, mandatory scheme; members, beneficiaries, accounts.

A *person* is anyone the mutuelle holds data on (member, beneficiary). Each person has their own
data key (``vault``): their NIR and birth date are encrypted under it, so erasing a person is
destroying that key. A *member* (adhérent) is a person who holds contracts; a *beneficiary*
(ayant droit) is a person covered under a member's contract.
"""

from __future__ import annotations

import datetime
import secrets
import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone

from mutualis.members import validators
from mutualis.vault.blind_index import BlindIndexField, compact_upper
from mutualis.vault.erased import is_erased
from mutualis.vault.fields import EncryptedDateField, EncryptedTextField


class Civility(models.TextChoices):
    MR = validators.CIVILITY_MALE, "Monsieur"
    MRS = validators.CIVILITY_FEMALE, "Madame"


class PersonQuerySet(models.QuerySet):
    def with_nir(self, nir: str) -> PersonQuerySet:
        """Exact NIR lookup through the blind index (the NIR itself is never queried)."""
        return self.filter(nir_index=nir_blind_index(nir))


def nir_blind_index(nir: str) -> str | None:
    """The blind index a person is looked up by for ``nir`` (any spacing or case)."""
    field = Person._meta.get_field("nir_index")
    return field.index_for(validators.normalize_nir(nir))


class Person(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = models.OneToOneField("vault.DataKey", on_delete=models.PROTECT, related_name="+")
    civility = models.CharField("civilité", max_length=3, choices=Civility.choices)
    last_name = models.CharField("nom", max_length=100)
    first_names = models.CharField("prénoms", max_length=150)
    birth_date = EncryptedDateField("date de naissance")
    # Contact details (a beneficiary may have none of their own).
    address_line1 = models.CharField("adresse", max_length=200, blank=True)
    address_line2 = models.CharField("complément d'adresse", max_length=200, blank=True)
    postal_code = models.CharField("code postal", max_length=5, blank=True)
    city = models.CharField("commune", max_length=100, blank=True)
    email = models.EmailField("adresse électronique", blank=True, db_index=True)
    phone_landline = models.CharField("téléphone fixe", max_length=12, blank=True)
    phone_mobile = models.CharField("téléphone mobile", max_length=12, blank=True)
    # Administrative data: NIR (encrypted, blind-indexed) and mandatory scheme.
    nir = EncryptedTextField("numéro de sécurité sociale", null=True, blank=True)
    nir_index = BlindIndexField(source="nir", purpose="nir", normalizer=compact_upper, unique=True)
    nir_holder = models.ForeignKey(
        "self",
        verbose_name="rattaché au NIR de",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attached_children",
        help_text="Un enfant peut être rattaché au numéro de sécurité sociale d'un parent.",
    )
    scheme_regime = models.CharField("code grand régime", max_length=2, blank=True)
    scheme_caisse = models.CharField("code caisse", max_length=3, blank=True)
    scheme_centre = models.CharField("code centre", max_length=4, blank=True)
    scheme_organisation = models.CharField("organisme de rattachement", max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = "personne"
        ordering = ["last_name", "first_names"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_names} {self.last_name}"

    @property
    def masked_nir(self) -> str:
        if self.nir is None:
            return "rattaché au NIR d'un parent" if self.nir_holder_id else "non renseigné"
        if is_erased(self.nir):
            return str(self.nir)
        return validators.mask_nir(self.nir)

    @property
    def scheme_code(self) -> str:
        if not self.scheme_regime:
            return ""
        return f"{self.scheme_regime} {self.scheme_caisse} {self.scheme_centre}"

    @property
    def postal_address(self) -> str:
        lines = [self.address_line1, self.address_line2, f"{self.postal_code} {self.city}".strip()]
        return "\n".join(line for line in lines if line)

    def age_on(self, day: datetime.date) -> int | None:
        birth = self.birth_date
        if birth is None or is_erased(birth):
            return None
        return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def new_member_number() -> str:
    """Random, not derived from any personal data: ``A`` + 9 digits."""
    return f"A{secrets.randbelow(10**9):09d}"


class MemberQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> MemberQuerySet:
        """A member sees only their own record; staff see every member (by role in views)."""
        if user.is_authenticated and user.is_staff_account:
            return self
        if user.is_authenticated:
            return self.filter(account=user)
        return self.none()


class Member(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="member")
    number = models.CharField("numéro d'adhérent", max_length=10, unique=True)
    account = models.OneToOneField(
        "members.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )
    joined_at = models.DateTimeField(default=timezone.now)
    # Idempotence key for bulk imports: the legacy system's identifier.
    legacy_reference = models.CharField(max_length=64, null=True, blank=True, unique=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = "adhérent"

    def __str__(self) -> str:
        return f"{self.number} — {self.person}"


class BeneficiaryRole(models.TextChoices):
    SPOUSE = "spouse", "Conjoint"
    PARTNER = "partner", "Partenaire de PACS ou concubin"
    CHILD = "child", "Enfant"


class Beneficiary(models.Model):
    """A person covered under a member's contracts (ayant droit)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="beneficiaries")
    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="beneficiary")
    role = models.CharField("lien", max_length=10, choices=BeneficiaryRole.choices)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "bénéficiaire"
        ordering = ["added_at"]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_role_display()})"


class UserKind(models.TextChoices):
    MEMBER = "member", "Adhérent"
    STAFF = "staff", "Personnel"


EMAIL_MAX_LENGTH = 254


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("an account needs an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str) -> User:
        # No address is longer (RFC 5321); a longer value would make SQLite's LIKE give up.
        if len(username or "") > EMAIL_MAX_LENGTH:
            raise self.model.DoesNotExist("no account has so long an address")
        return self.get(email__iexact=username)


class User(AbstractBaseUser):
    """A login account: a member's account in the member space, or a staff account.

    Staff accounts carry a role, one per internal service (``privacy.catalogue.ALL_SERVICES``);
    the back office derives permissions and visible categories from it.
    """

    email = models.EmailField("adresse électronique", unique=True)
    kind = models.CharField(max_length=10, choices=UserKind.choices, default=UserKind.MEMBER)
    role = models.CharField("rôle", max_length=20, blank=True)
    display_name = models.CharField("nom affiché", max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "compte"

    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def is_staff_account(self) -> bool:
        return self.kind == UserKind.STAFF

    # Django's admin is not installed; these keep third-party code that asks working.
    is_staff = False
    is_superuser = False

    def has_perm(self, perm: str, obj: object = None) -> bool:
        from mutualis.members.roles import role_has_permission

        return self.is_active and self.is_staff_account and role_has_permission(self.role, perm)

    def has_module_perms(self, app_label: str) -> bool:
        return False
