"""Premiums and their collection: SEPA mandates (SDD Core), the schedule of premiums, the
member's ledger, debit batches and their returns, pre-notifications, unpaid premiums."""

from __future__ import annotations

import datetime
import secrets
import uuid

from django.db import models
from django.utils import timezone

from mutualis.billing import calendar
from mutualis.members import validators
from mutualis.members.models import Member
from mutualis.vault.erased import is_erased
from mutualis.vault.fields import EncryptedTextField


def new_mandate_reference() -> str:
    """Unique mandate reference (RUM): ≤ 35 characters, no personal data in it."""
    return f"RUM-{timezone.localdate():%Y%m%d}-{secrets.token_hex(8).upper()}"


class MandateQuerySet(models.QuerySet):
    def current(self) -> MandateQuerySet:
        """Mandates that may still be debited: neither revoked nor lapsed."""
        return self.filter(ended_at__isnull=True, lapsed_at__isnull=True)


class Mandate(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="mandates")
    # The IBAN is encrypted under the member's own data key.
    data_key = models.ForeignKey("vault.DataKey", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField("référence unique du mandat (RUM)", max_length=35, unique=True)
    creditor_identifier = models.CharField("identifiant créancier SEPA (ICS)", max_length=35)
    debtor_name = models.CharField("titulaire du compte", max_length=140)
    iban = EncryptedTextField("IBAN")
    bic = models.CharField("BIC", max_length=11, blank=True)
    signed_at = models.DateTimeField("signé le", default=timezone.now)
    signed_place = models.CharField("lieu de signature", max_length=100)
    # A one-off mandate allows a single debit (sequence type OOFF), then it is used up.
    one_off = models.BooleanField("mandat ponctuel", default=False)
    ended_at = models.DateTimeField("révoqué le", null=True, blank=True)
    # An amendment waiting for the next debit: the former reference and IBAN are sent with it
    # (SEPA rulebook), then cleared.
    previous_reference = models.CharField("ancienne RUM", max_length=35, blank=True)
    previous_iban = EncryptedTextField("ancien IBAN", null=True, blank=True)
    amendment_pending = models.BooleanField("modification à transmettre", default=False)
    last_collected_on = models.DateField("dernier prélèvement le", null=True, blank=True)
    # Lapse after 36 months without a collection (SEPA rulebook).
    lapsed_at = models.DateTimeField("caduc le", null=True, blank=True)
    # Intermediate archive (retention engine): restricted, visible to the DPO only.
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)

    objects = MandateQuerySet.as_manager()

    class Meta:
        verbose_name = "mandat SEPA"
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return self.reference

    @property
    def masked_iban(self) -> str:
        if is_erased(self.iban):
            return str(self.iban)
        return validators.mask_iban(self.iban)


# --- Premiums, ledger, debits, returns, unpaid premiums -----------------------------------------
# Amounts are Decimal with two places end to end. Sign convention of the ledger: a positive
# amount is owed by the member (premium, rejected debit, fee, refund paid back to the account
# holder); a negative amount is money received (debit, cheque, transfer). The balance on a day is
# the sum of the entries booked up to that day: there is no stored balance to drift.
AMOUNT = {"max_digits": 12, "decimal_places": 2}


def year_end(day: datetime.date) -> datetime.date:
    """The last day of ``day``'s financial year (the calendar year): the accounting records'
    retention clock starts there."""
    return datetime.date(day.year, 12, 31)


class AccountingRecord(models.Model):
    """A record kept as an accounting document: its retention runs from the end of its
    financial year (``year_end``, set from its own date on save)."""

    year_end = models.DateField("fin de l'exercice", editable=False)
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.year_end = year_end(self.accounting_date())
        super().save(*args, **kwargs)

    def accounting_date(self) -> datetime.date:
        raise NotImplementedError


class Instalment(AccountingRecord):
    """One covered month of a contract and the premium due for it: the schedule.

    Kept ten years after its financial year, longer than the contract (five years after its
    end): the contract may go first (``SET_NULL``), the member it was due from stays known.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contract = models.ForeignKey(
        "contracts.Contract",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="instalments",
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="instalments")
    month = models.DateField("mois couvert")  # always the first day of the month
    due_date = models.DateField("échéance")
    amount = models.DecimalField("montant", **AMOUNT)
    computed_at = models.DateTimeField("calculée le", default=timezone.now)
    # The direct debit that collected this month (or tried to: a rejected debit stays linked,
    # the unpaid premium then goes through the L221-7 sequence, it is never debited again).
    debit = models.ForeignKey(
        "Debit", on_delete=models.PROTECT, null=True, blank=True, related_name="instalments"
    )

    class Meta:
        verbose_name = "échéance de cotisation"
        ordering = ["contract", "month"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "month"], name="instalment_one_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.month:%m/%Y} : {self.amount} €"

    def accounting_date(self) -> datetime.date:
        return self.month


class LedgerKind(models.TextChoices):
    PREMIUM = "premium", "cotisation due"
    DEBIT = "debit", "prélèvement SEPA"
    CHEQUE = "cheque", "chèque"
    TRANSFER = "transfer", "virement"
    REJECTION = "rejection", "prélèvement rejeté"
    REFUND = "refund", "remboursement demandé à la banque"
    FEE = "fee", "frais de rejet"
    ADJUSTMENT = "adjustment", "régularisation"


class LedgerEntry(AccountingRecord):
    """One movement of a member's account with the mutuelle (append-only)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="ledger_entries")
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    instalment = models.ForeignKey(
        Instalment, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    debit = models.ForeignKey(
        "Debit", on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    kind = models.CharField("nature", max_length=20, choices=LedgerKind.choices)
    amount = models.DecimalField("montant", **AMOUNT)
    booked_on = models.DateField("date de valeur")
    label = models.CharField("libellé", max_length=200)
    # A cheque number, a transfer reference, a bank return's identifier: no personal data.
    reference = models.CharField("référence", max_length=64, blank=True)
    # One entry per fact: "premium:<instalment>", "debit:<end-to-end id>", "return:<id>"... A
    # rerun of whatever books the fact meets this key and books nothing twice.
    idempotency_key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    created_at = models.DateTimeField("enregistrée le", default=timezone.now)
    created_by = models.CharField("enregistrée par", max_length=150, blank=True)

    class Meta:
        verbose_name = "écriture du compte cotisations"
        ordering = ["booked_on", "created_at"]
        indexes = [models.Index(fields=["member", "booked_on"], name="ledger_member_day")]

    def __str__(self) -> str:
        return f"{self.booked_on} {self.get_kind_display()} {self.amount} €"

    def accounting_date(self) -> datetime.date:
        return self.booked_on


class BatchStatus(models.TextChoices):
    BUILDING = "building", "en préparation"
    RELEASED = "released", "transmis"


class BatchFormat(models.TextChoices):
    # The current EPC rulebook's message, and the former one some banks still take.
    V08 = "pain.008.001.08", "pain.008.001.08 (recueil EPC en vigueur)"
    V02 = "pain.008.001.02", "pain.008.001.02 (ancien format)"


class DebitBatch(models.Model):
    """The debits of one collection date, written as one pain.008 file."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    collection_date = models.DateField("date d'échéance du prélèvement")
    format = models.CharField(
        "format", max_length=20, choices=BatchFormat.choices, default=BatchFormat.V08
    )
    message_id = models.CharField("identifiant du message", max_length=35, unique=True)
    status = models.CharField(
        "état", max_length=20, choices=BatchStatus.choices, default=BatchStatus.BUILDING
    )
    debit_count = models.PositiveIntegerField("nombre de prélèvements", default=0)
    total = models.DecimalField("montant total", max_digits=16, decimal_places=2, default=0)
    file_name = models.CharField("fichier", max_length=200, blank=True)
    file_sha256 = models.CharField("empreinte SHA-256", max_length=64, blank=True)
    created_at = models.DateTimeField("créé le", default=timezone.now)
    released_at = models.DateTimeField("transmis le", null=True, blank=True)

    class Meta:
        verbose_name = "remise de prélèvements"
        ordering = ["-collection_date"]
        constraints = [
            models.UniqueConstraint(fields=["collection_date"], name="batch_one_per_date")
        ]

    def __str__(self) -> str:
        return f"Remise du {self.collection_date:%d/%m/%Y}"


class SequenceType(models.TextChoices):
    FIRST = "FRST", "premier prélèvement"
    RECURRING = "RCUR", "prélèvement récurrent"
    FINAL = "FNAL", "dernier prélèvement"
    ONE_OFF = "OOFF", "prélèvement ponctuel"


class DebitStatus(models.TextChoices):
    PENDING = "pending", "en préparation"
    SENT = "sent", "transmis à la banque"
    REJECTED = "rejected", "rejeté"
    RETURNED = "returned", "retourné"
    REFUNDED = "refunded", "remboursé au titulaire"


class Debit(AccountingRecord):
    """One direct debit of one mandate in one batch."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    batch = models.ForeignKey(DebitBatch, on_delete=models.PROTECT, related_name="debits")
    # The mandate (and its IBAN) goes 13 months after its last debit; the debit, an accounting
    # record, stays ten years.
    mandate = models.ForeignKey(
        Mandate, on_delete=models.SET_NULL, null=True, blank=True, related_name="debits"
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="debits")
    amount = models.DecimalField("montant", **AMOUNT)
    # The unstructured remittance text the debtor's bank shows ("Cotisations 01/2027 ...").
    remittance = models.CharField("libellé", max_length=140)
    end_to_end_id = models.CharField("référence de bout en bout", max_length=35, unique=True)
    sequence_type = models.CharField("séquence", max_length=4, choices=SequenceType.choices)
    # Amendment sent with this debit (SEPA rulebook): the mandate's former reference, and
    # whether the debtor's account moved to another bank ("SMNDA").
    original_mandate_reference = models.CharField(
        "ancienne RUM transmise", max_length=35, blank=True
    )
    original_debtor_account_changed = models.BooleanField(
        "changement de banque du débiteur transmis", default=False
    )
    # A new account at the same bank: the former IBAN is sent (OrgnlDbtrAcct).
    original_account_sent = models.BooleanField("ancien compte transmis", default=False)
    status = models.CharField(
        "état", max_length=20, choices=DebitStatus.choices, default=DebitStatus.PENDING
    )
    created_at = models.DateTimeField("créé le", default=timezone.now)

    class Meta:
        verbose_name = "prélèvement"
        ordering = ["batch", "end_to_end_id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "mandate"], name="debit_one_per_mandate")
        ]

    def __str__(self) -> str:
        return self.end_to_end_id

    @property
    def amended(self) -> bool:
        return bool(
            self.original_mandate_reference
            or self.original_debtor_account_changed
            or self.original_account_sent
        )

    def accounting_date(self) -> datetime.date:
        return self.batch.collection_date


class ReturnFile(models.Model):
    """A status report or debit notification imported from the bank (pain.002, camt.054, CSV)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sha256 = models.CharField("empreinte SHA-256", max_length=64, unique=True)
    kind = models.CharField("format", max_length=20)
    file_name = models.CharField("fichier", max_length=200)
    message_id = models.CharField("identifiant du message", max_length=35, blank=True)
    imported_at = models.DateTimeField("importé le", default=timezone.now)
    imported_by = models.CharField("importé par", max_length=150, blank=True)
    return_count = models.PositiveIntegerField("retours", default=0)

    class Meta:
        verbose_name = "fichier de retours bancaires"
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return self.file_name


class ReturnKind(models.TextChoices):
    REJECT = "reject", "rejet avant règlement"
    RETURN = "return", "retour après règlement"
    REFUND = "refund", "remboursement demandé par le titulaire"


class ReturnStatus(models.TextChoices):
    OPEN = "open", "à traiter"
    HANDLED = "handled", "traité"


class DebitReturn(AccountingRecord):
    """An R-transaction on one debit, with its ISO reason code: a line of the cotisations queue."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file = models.ForeignKey(ReturnFile, on_delete=models.PROTECT, related_name="returns")
    debit = models.ForeignKey(Debit, on_delete=models.PROTECT, related_name="returns")
    kind = models.CharField("nature", max_length=20, choices=ReturnKind.choices)
    reason_code = models.CharField("code motif", max_length=4)
    amount = models.DecimalField("montant", **AMOUNT)
    booked_on = models.DateField("date de valeur")
    status = models.CharField(
        "état", max_length=20, choices=ReturnStatus.choices, default=ReturnStatus.OPEN
    )
    handled_by = models.CharField("traité par", max_length=150, blank=True)
    handled_at = models.DateTimeField("traité le", null=True, blank=True)
    note = models.TextField("remarque du service", blank=True)

    class Meta:
        verbose_name = "retour de prélèvement"
        ordering = ["-booked_on"]
        constraints = [
            models.UniqueConstraint(fields=["debit", "kind"], name="return_one_per_debit_and_kind")
        ]

    def __str__(self) -> str:
        return f"{self.reason_code} {self.debit_id}"

    def accounting_date(self) -> datetime.date:
        return self.booked_on


class PreNotification(AccountingRecord):
    """The notice of a coming debit (at least 14 days before): by e-mail, or by post to a member
    without an e-mail address, and in the member space."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="prenotifications")
    mandate = models.ForeignKey(
        Mandate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="prenotifications",
    )
    # A yearly schedule covers every debit of a fixed amount; a single notice announces a debit
    # whose amount or date changes.
    schedule = models.BooleanField("échéancier annuel", default=False)
    collection_date = models.DateField("date du prélèvement")
    amount = models.DecimalField("montant", **AMOUNT)
    created_at = models.DateTimeField("établie le", default=timezone.now)
    emailed_at = models.DateTimeField("envoyée le", null=True, blank=True)
    # A member without an e-mail address is sent the notice by post: printed from the back
    # office, in a print run (mutualis.billing.notice_letters).
    posted_at = models.DateTimeField("remise au courrier le", null=True, blank=True)
    print_run = models.UUIDField("tirage", null=True, blank=True, db_index=True)
    # The mail server refused its e-mail (or the address cannot be written): the notice goes by
    # post instead, and is not e-mailed again unless the address is corrected.
    email_refused_at = models.DateTimeField("courriel refusé le", null=True, blank=True)

    class Meta:
        verbose_name = "pré-notification de prélèvement"
        ordering = ["collection_date", "created_at"]
        # The latest notice of a mandate for a date, given at least 14 days before it, is the
        # amount that may be debited that day (docs/billing.md, "Pre-notification").
        indexes = [models.Index(fields=["mandate", "collection_date"], name="prenotice_date")]

    def __str__(self) -> str:
        return f"{self.collection_date} : {self.amount} €"

    def accounting_date(self) -> datetime.date:
        return self.collection_date

    @property
    def given_at(self) -> datetime.datetime | None:
        """When the notice left for the member: e-mailed or posted (``billing.prenotify``)."""
        return self.emailed_at or self.posted_at

    @property
    def too_late(self) -> bool:
        """Not given, and too late to be: its debit will not be presented on its date."""
        limit = calendar.latest_notice_day(self.collection_date)
        return self.given_at is None and timezone.localdate() > limit


def superseded_notice() -> models.Exists:
    """In a query of notices: a later notice was made for the same mandate and date (it says
    what the member is to be told)."""
    return models.Exists(
        PreNotification.objects.filter(
            mandate=models.OuterRef("mandate"),
            collection_date=models.OuterRef("collection_date"),
            created_at__gt=models.OuterRef("created_at"),
        )
    )


class DunningStage(models.TextChoices):
    OVERDUE = "overdue", "impayé"
    NOTICE = "notice", "mise en demeure envoyée"
    SUSPENDED = "suspended", "garanties suspendues"
    TERMINATED = "terminated", "contrat résilié"
    SETTLED = "settled", "régularisé"


class DunningCase(models.Model):
    """An unpaid premium followed through C. mutualité L221-7, for one contract."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The case follows the contract's retention: it goes with it.
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="dunning_cases"
    )
    stage = models.CharField(
        "étape", max_length=20, choices=DunningStage.choices, default=DunningStage.OVERDUE
    )
    due_date = models.DateField("échéance impayée")
    amount = models.DecimalField("montant impayé", **AMOUNT)
    notice_sent_on = models.DateField("mise en demeure le", null=True, blank=True)
    suspended_from = models.DateField("suspendu à compter du", null=True, blank=True)
    terminated_on = models.DateField("résilié le", null=True, blank=True)
    settled_on = models.DateField("soldé le", null=True, blank=True)
    restored_at = models.DateTimeField("garanties rétablies le", null=True, blank=True)
    opened_at = models.DateTimeField("ouvert le", default=timezone.now)
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)

    class Meta:
        verbose_name = "dossier d'impayé"
        ordering = ["due_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract"],
                condition=models.Q(settled_on__isnull=True, terminated_on__isnull=True),
                name="dunning_one_open_case_per_contract",
            )
        ]

    def __str__(self) -> str:
        return f"Impayé du {self.due_date:%d/%m/%Y} ({self.get_stage_display()})"


class LetterKind(models.TextChoices):
    NOTICE = "notice", "mise en demeure"
    SUSPENSION = "suspension", "suspension des garanties"
    TERMINATION = "termination", "résiliation"
    RESTORATION = "restoration", "rétablissement des garanties"


class DunningLetter(models.Model):
    """A letter of the unpaid-premium sequence. Its text is drawn again from its template and
    the case, so no second copy of the member's data is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(DunningCase, on_delete=models.CASCADE, related_name="letters")
    kind = models.CharField("lettre", max_length=20, choices=LetterKind.choices)
    created_at = models.DateTimeField("établie le", default=timezone.now)
    sent_at = models.DateTimeField("envoyée le", null=True, blank=True)
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)

    class Meta:
        verbose_name = "lettre de relance"
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="dunning_letter_once")]

    def __str__(self) -> str:
        return self.get_kind_display()


class PaymentPlan(models.Model):
    """Settlement of an unpaid amount in instalments, granted by the cotisations service."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(DunningCase, on_delete=models.CASCADE, related_name="plans")
    instalment_count = models.PositiveSmallIntegerField("nombre d'échéances")
    instalment_amount = models.DecimalField("montant par échéance", **AMOUNT)
    first_date = models.DateField("première échéance")
    granted_by = models.CharField("accordé par", max_length=150)
    granted_at = models.DateTimeField("accordé le", default=timezone.now)
    # While a plan runs the L221-7 steps wait; it ends when the case is settled or the
    # cotisations service ends it (a missed instalment).
    ended_at = models.DateTimeField("terminé le", null=True, blank=True)
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)

    class Meta:
        verbose_name = "échéancier de paiement"
        ordering = ["-granted_at"]

    def __str__(self) -> str:
        return f"{self.instalment_count} × {self.instalment_amount} €"
