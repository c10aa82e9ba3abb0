"""Field errors of a request, in French, without the values that were sent.

pydantic's messages are English and quote the input; partners get one French sentence per
field instead, chosen by field and by kind of error.
"""

from __future__ import annotations

from collections.abc import Iterable

FIELD_MESSAGES = {
    "nir": "Le NIR compte 15 caractères sans espace : 13 chiffres (2A ou 2B pour la Corse) "
    "puis une clé de 2 chiffres.",
    "numero_adherent": "Le numéro d'adhérent est une lettre majuscule suivie de 9 chiffres, "
    "par exemple A123456789.",
    "date_naissance": "La date de naissance s'écrit AAAA-MM-JJ et doit exister.",
    "date_soins": "La date des soins s'écrit AAAA-MM-JJ et doit exister.",
    "depuis": "La date s'écrit au format ISO 8601, par exemple 2026-03-01T00:00:00+01:00.",
    "limite": "Le nombre d'avis demandé est un entier de 1 à 200.",
}
BODY = "corps"
MISSING = "Ce champ est obligatoire."
UNEXPECTED = "Ce champ n'est pas attendu."
NOT_AN_OBJECT = "Le corps de la requête doit être un objet JSON."
ONE_IDENTIFIER = "Indiquez soit le NIR, soit le numéro d'adhérent, l'un des deux seulement."


def _field(location: Iterable) -> str:
    """The request field an error is about: ninja's location is the source (``body``,
    ``query``), for a body the parameter's name, then the field."""
    names = [str(part) for part in location if isinstance(part, str)]
    if names[:1] == ["body"]:
        names = names[2:]
    elif names[:1] == ["query"]:
        names = names[1:]
    return names[0] if names else BODY


def field_errors(errors: Iterable[dict]) -> list[dict[str, str]]:
    found: dict[str, str] = {}
    for error in errors:
        kind = error.get("type", "")
        location = error.get("loc", ())
        name = _field(location)
        if kind == "value_error" and "nir_or_member_number" in str(error.get("msg", "")):
            name, message = "nir", ONE_IDENTIFIER
        elif kind == "missing":
            message = MISSING
        elif kind == "extra_forbidden":
            message = UNEXPECTED
        elif name == BODY or kind in {"model_type", "model_attributes_type", "dict_type"}:
            name, message = BODY, NOT_AN_OBJECT
        else:
            message = FIELD_MESSAGES.get(name, "Valeur invalide.")
        found.setdefault(name, message)
    return [{"champ": name, "message": message} for name, message in found.items()]
