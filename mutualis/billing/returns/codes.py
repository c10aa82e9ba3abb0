"""ISO 20022 reason codes of SEPA direct debit R-transactions (EPC SDD Core rulebook, the
guidance on reason codes EPC173-14), each with what it means in French and what it does to the
mandate: after some of them the mandate can no longer be used."""

from __future__ import annotations

REASONS: dict[str, str] = {
    "AC01": "identifiant du compte incorrect (IBAN invalide)",
    "AC04": "compte clôturé",
    "AC06": "compte bloqué ou fermé aux prélèvements",
    "AC13": "type de compte du débiteur non valable",
    "AG01": "opération interdite sur ce type de compte",
    "AG02": "code d'opération non valable",
    "AM04": "provision insuffisante",
    "AM05": "prélèvement en double",
    "BE05": "identifiant du créancier non reconnu",
    "CNOR": "banque du créancier injoignable",
    "DNOR": "banque du débiteur injoignable",
    "ED05": "règlement interbancaire échoué",
    "FF01": "format de fichier non valable",
    "MD01": "absence de mandat",
    "MD02": "données du mandat manquantes ou erronées",
    "MD06": "remboursement demandé par le titulaire du compte",
    "MD07": "titulaire du compte décédé",
    "MS02": "refus du titulaire du compte",
    "MS03": "motif non communiqué par la banque",
    "RC01": "code BIC incorrect",
    "RR01": "identification du débiteur manquante",
    "RR02": "nom ou adresse du débiteur manquant",
    "RR03": "nom ou adresse du créancier manquant",
    "RR04": "motif réglementaire",
    "SL01": "service particulier de la banque du débiteur (filtrage des prélèvements)",
}
# After these the account or the authorisation is gone: the mandate is ended.
ENDS_MANDATE = frozenset({"AC01", "AC04", "AC06", "AC13", "AG01", "MD01", "MD07"})
REFUND = "MD06"


def label(code: str) -> str:
    return REASONS.get(code, "motif inconnu")
