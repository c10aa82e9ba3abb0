"""What the exports say in French: constants, field labels, and readable names of related rows."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.db import models

from mutualis.members.models import Beneficiary, UserKind
from mutualis.privacy import catalogue, registry
from mutualis.privacy.declaration import LegalBasis

ACCESS_SCHEMA = "mutualis.access/2"
PORTABILITY_SCHEMA_VERSION = "1.0"
PROVIDED = "fournie par vous"
GENERATED = "générée par la mutuelle"
PASSWORD_WITHHELD = "non communicable : seule une empreinte est conservée"  # noqa: S105
INDEX_WITHHELD = "index technique : empreinte calculée pour les recherches, sans valeur lisible"
SELF = "vous"
PORTABLE_BASES = frozenset({LegalBasis.CONTRACT, LegalBasis.CONSENT})

# A declaration without a subject path whose model names the person by this declared field
# (their primary key as text, as the audit log does) is read by it.
SUBJECT_ID_FIELD = "subject_id"

# Declarations with personal fields that the walk does not read, and why.
NOT_WALKED: dict[str, str] = {
    "audit.event": "journal d'audit : lu par l'identifiant de la personne (audit_log)",
    "audit.disclosure": "registre des communications : lu par l'identifiant (disclosures)",
    "audit.securityevent": "journal de sécurité : tentatives et refus, rattachés à un compte "
    "technique et à un réseau d'origine tronqué, jamais à une personne ; communiqué par le "
    "délégué à la protection des données sur demande (RGPD art. 15(4) : sécurité des accès)",
    "contracts.subscriptiondraft": "adhésion en ligne non confirmée : rattachée à aucune "
    "personne, effacée au bout d'un jour",
    "rights.pendingrequest": "demande envoyée depuis le site, en attente de la confirmation de "
    "l'adresse : rattachée à aucune personne, effacée au bout de deux jours au plus",
    "privacy.legalhold": "gel de conservation : mesure interne liée à une procédure, "
    "communiquée par le délégué à la protection des données sur demande",
    "recipients.organisation": "organismes destinataires : coordonnées de leurs interlocuteurs, "
    "sans lien avec un adhérent",
    "recipients.credential": "clés d'API des organismes destinataires : sans lien avec un adhérent",
    "recipients.notice": "avis de rectification ou d'effacement aux destinataires : la réponse "
    "à la demande nomme les destinataires informés",
    "recipients.requisition": "réquisitions des autorités : figurent parmi les communications "
    "(disclosures), sauf tant que la loi interdit d'en informer la personne",
    "recipients.requisitionsubject": "personnes visées par une réquisition : figurent parmi les "
    "communications (disclosures), sauf tant que la loi interdit d'en informer la personne",
    "billing.returnfile": "fichier de retours bancaires : ne nomme que le personnel qui l'a "
    "importé ; chaque retour exporté figure parmi les données de paiement",
    "sessions.session": "session de connexion en cours : supprimée dès qu'elle prend fin",
    "axes.accessattempt": "tentatives de connexion échouées, comptées pour verrouiller un "
    "compte : rattachées à l'adresse saisie, non à un dossier",
    "axes.accessattemptexpiration": "échéance d'une tentative de connexion échouée",
    "axes.accesslog": "journal des connexions de la bibliothèque de verrouillage : désactivé",
    "axes.accessfailurelog": "journal des échecs de la bibliothèque de verrouillage : désactivé",
    "otp_totp.totpdevice": "second facteur des personnels : aucun adhérent n'en a",
    "consent.consentnotice": "texte des mentions de consentement : ne nomme que le personnel "
    "qui l'a publié ; chaque accord exporté en donne la version",
    "audience.audienceevent": "mesure d'audience : rattachée à un identifiant aléatoire du "
    "navigateur, jamais à une personne",
    "web.cacheentry": "limitation du nombre d'envois des formulaires : empreintes chiffrées "
    "d'adresses, rattachées à aucune personne, effacées dans les 24 heures",
    "consent.campaign": "campagne : ne nomme que le personnel qui l'a préparée ; chaque envoi "
    "reçu figure au journal des envois exporté",
    "staff.staffaccount": "compte d'un membre du personnel : aucun adhérent n'en a",
    "staff.recoverycode": "codes de secours du second facteur des personnels",
    "staff.approval": "demandes d'administration des comptes des personnels",
    "breaches.breach": "fiche d'une violation de données : ne nomme que le personnel qui l'a "
    "inscrite ; les personnes concernées figurent dans leur copie",
}

# French labels of fields whose model field gives none (Django's default is its English name).
FIELD_LABELS: dict[tuple[str, str], str] = {
    ("members.member", "joined_at"): "adhérent depuis le",
    ("members.member", "account"): "compte de l'espace adhérent",
    ("members.member", "legacy_reference"): "référence dans notre ancien système de gestion",
    ("members.beneficiary", "added_at"): "couvert depuis le",
    ("members.person", "nir_index"): "index de recherche du numéro de sécurité sociale",
    ("contracts.contract", "offer"): "formule",
    ("contracts.contract", "beneficiaries"): "bénéficiaires",
    ("members.user", "last_login"): "dernière connexion",
    ("members.user", "date_joined"): "compte créé le",
    ("members.user", "password"): "mot de passe",
    ("contact.inquiry", "person"): "personne concernée",
    ("contact.message", "author"): "rédigé par",
    ("contact.attachment", "content"): "contenu du fichier",
    ("contact.complaint", "qualified_at"): "qualifiée de réclamation le",
    ("contact.complaint", "qualified_by"): "qualifiée par",
    ("rights.deathrecord", "recorded_by"): "enregistré par",
    ("rights.postmortemdirective", "instructions"): "instructions",  # French already
    ("rights.requestevent", "action"): "étape",
    ("rights.requestevent", "note"): "note",  # French already
}

RIGHTS: tuple[tuple[str, str, str], ...] = (
    ("RGPD art. 15", "Accès", "obtenir la copie de vos données et les informations ci-dessous"),
    ("RGPD art. 16", "Rectification", "faire corriger ou compléter vos données"),
    (
        "RGPD art. 17",
        "Effacement",
        "faire effacer vos données, sauf lorsqu'une obligation légale impose de les conserver : "
        "elles sont alors archivées et leur usage limité",
    ),
    ("RGPD art. 18", "Limitation", "faire limiter l'usage de vos données à leur conservation"),
    (
        "RGPD art. 20",
        "Portabilité",
        "recevoir les données que vous nous avez fournies, en JSON et en CSV",
    ),
    (
        "RGPD art. 21",
        "Opposition",
        "vous opposer, sans motif, à la prospection ; pour motif "
        "légitime, aux traitements fondés sur l'intérêt légitime de la mutuelle",
    ),
    ("RGPD art. 7(3)", "Retrait du consentement", "retirer à tout moment un accord donné"),
    (
        "Loi 78-17 art. 85",
        "Directives post mortem",
        "définir le sort de vos données après votre décès",
    ),
)


def field_label(model_label: str, model_field: models.Field) -> str:
    """The French label of a model field: the table above, else its ``verbose_name``."""
    return FIELD_LABELS.get((model_label, model_field.name)) or str(model_field.verbose_name)


def has_french_label(model_label: str, model_field: models.Field) -> bool:
    """Whether someone wrote the field's label (Django's default is its name)."""
    default = model_field.name.replace("_", " ")
    return (model_label, model_field.name) in FIELD_LABELS or model_field.verbose_name != default


# --- Naming related objects ------------------------------------------------------------------
# A relation reads as a name built from a few columns of the related row, joined in the same
# query: model label -> (columns, name from their values).
@functools.lru_cache(maxsize=64)  # a few service codes, named on every staff message
def staff_role(role: str) -> str:
    for service in catalogue.ALL_SERVICES:
        if service.code == role:
            return f"personnel de la mutuelle (service {service.label})"
    return "personnel de la mutuelle"


def _account_name(kind: str, role: str, email: str) -> str:
    return staff_role(role) if kind == UserKind.STAFF else email


ROLES = {str(k): str(v).lower() for k, v in Beneficiary._meta.get_field("role").flatchoices}

RELATED_NAMES: dict[str, tuple[tuple[str, ...], Callable[..., str]]] = {
    "members.person": (("first_names", "last_name"), lambda first, last: f"{first} {last}"),
    "members.beneficiary": (
        ("person__first_names", "person__last_name", "role"),
        lambda first, last, role: f"{first} {last} ({ROLES.get(role, role)})",
    ),
    "members.member": (("number",), lambda number: f"adhérent n° {number}"),
    "members.user": (("kind", "role", "email"), _account_name),
}


class Remembered:
    """``name_of``, remembering the names of the last rows met: a few offers and policy
    versions name every contract (no personal data is kept: only for such models). The export
    also remembers them by the driver's values of their columns (``reading``)."""

    def __init__(self, name_of: Callable[..., str], size: int = 1024) -> None:
        self.name_of = name_of
        self.size = size
        self.known: dict[tuple, str] = {}

    def __call__(self, *values) -> str:
        found = self.known.get(values)
        if found is None:
            if len(self.known) >= self.size:
                self.known.clear()
            found = self.known[values] = self.name_of(*values)
        return found


def namer(model: type[models.Model]) -> tuple[tuple[str, ...], Callable[..., str]]:
    """The columns of a related row that name it, and the function that names it from them
    (their values as the ORM gives them)."""
    label = model._meta.label_lower
    if label in RELATED_NAMES:
        return RELATED_NAMES[label]
    declaration = registry.get(label)
    if declaration is None or not declaration.holds_personal_data:
        # No personal data there (an offer, a policy version): its own str(), from its short
        # columns (a policy version's body is not read for every contract).
        names = tuple(
            f.attname
            for f in model._meta.concrete_fields
            if not isinstance(f, models.TextField | models.BinaryField | models.JSONField)
        )
        return names, Remembered(lambda *values: str(model.from_db(None, names, list(values))))
    # Someone else's record may hide behind an unknown relation: its id, never its content.
    verbose = str(model._meta.verbose_name)
    return ("pk",), lambda pk: f"{verbose} {pk}"
