"""The API's request and response shapes (the OpenAPI schema is generated from them).

Field names are French, like the partners' own vocabulary (NOEMIE, attestations de tiers
payant). Every request refuses unknown fields. A NIR is accepted only in a request body.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, StringConstraints, model_validator

# The NIR's shape (its key, mod 97, is checked by the API: JSON Schema cannot say it).
NIR_PATTERN = r"^[1-478][0-9]{4}(?:[0-9]{2}|2[AB])[0-9]{8}$"
MEMBER_NUMBER_PATTERN = r"^[A-Z][0-9]{9}$"

Nir = Annotated[str, StringConstraints(pattern=NIR_PATTERN, min_length=15, max_length=15)]
MemberNumber = Annotated[
    str, StringConstraints(pattern=MEMBER_NUMBER_PATTERN, min_length=10, max_length=10)
]

Status = Literal["couvert", "non_couvert", "suspendu", "resilie", "inconnu"]


class RightsCheckIn(Schema):
    """Le patient, désigné par son NIR ou par son numéro d'adhérent (l'un ou l'autre), sa date
    de naissance et la date des soins."""

    model_config = ConfigDict(extra="forbid")

    nir: Nir | None = Field(
        None,
        description="Numéro de sécurité sociale du patient ou de l'assuré auquel il est "
        "rattaché, 15 caractères sans espace (13 + clé). Jamais dans l'URL.",
        examples=["295109912611193"],
    )
    numero_adherent: MemberNumber | None = Field(
        None,
        description="Numéro d'adhérent figurant sur la carte de tiers payant.",
        examples=["A123456789"],
    )
    date_naissance: datetime.date = Field(
        description="Date de naissance du patient (AAAA-MM-JJ).", examples=["1995-10-12"]
    )
    date_soins: datetime.date = Field(
        description="Date des soins (AAAA-MM-JJ), au plus deux ans avant et six mois après "
        "aujourd'hui.",
        examples=["2026-03-02"],
    )

    @model_validator(mode="after")
    def one_identifier(self) -> RightsCheckIn:
        if (self.nir is None) == (self.numero_adherent is None):
            raise ValueError("nir_or_member_number")
        return self


class Insurer(Schema):
    numero: str = Field(description="Numéro de la mutuelle comme organisme complémentaire.")
    nom: str = Field(description="Nom de la mutuelle.")


class GuaranteeOut(Schema):
    domaine: str = Field(description="Code du domaine de soins (PHAR, MEDE, LABO, HOSP, OPTI…).")
    libelle: str = Field(description="Domaine de soins, en clair.")
    taux: int = Field(description="Prise en charge, en % de la base de remboursement.")
    tiers_payant: bool = Field(description="Dispense d'avance de frais dans ce domaine.")


class RightsCheckOut(Schema):
    """Les droits du patient à la date des soins : le minimum nécessaire au tiers payant."""

    reference: uuid.UUID = Field(
        description="Référence de cette vérification, à rappeler sur la facture."
    )
    statut: Status = Field(
        description="couvert, non_couvert (pas encore ou pas de contrat ce jour-là), suspendu "
        "(garanties suspendues pour cotisations impayées), resilie, ou inconnu (aucun adhérent "
        "ne correspond, ou la mutuelle ne peut rien communiquer sur ce patient)."
    )
    libelle: str = Field(description="Le statut, en clair.")
    date_soins: datetime.date
    organisme_complementaire: Insurer
    garanties: list[GuaranteeOut] = Field(
        description="Niveaux de garantie de la formule, lorsque le patient est couvert."
    )


class NoticeOut(Schema):
    """Un avis de rectification ou d'effacement (RGPD art. 19) de données reçues."""

    id: uuid.UUID
    date: datetime.datetime
    nature: Literal["rectification", "effacement"]
    references: list[str] = Field(
        description="Références des vérifications de droits dont les données sont concernées."
    )
    categories: list[str] = Field(description="Catégories de données concernées.")
    consigne: str = Field(description="Ce que l'organisme doit faire des données reçues.")


class NoticeList(Schema):
    avis: list[NoticeOut]


class FieldError(Schema):
    champ: str
    message: str


class ProblemOut(Schema):
    """Une erreur, au format RFC 9457 (application/problem+json)."""

    type: str = Field(description="Type stable de l'erreur (référence d'URI).")
    title: str = Field(description="Intitulé du type d'erreur, en français.")
    status: int
    detail: str = Field(description="Explication de cette erreur, en français.")
    instance: str | None = None
    erreurs: list[FieldError] | None = Field(None, description="Champs invalides.")
    retry_after: int | None = Field(
        None, description="Secondes à attendre avant de réessayer (429)."
    )
