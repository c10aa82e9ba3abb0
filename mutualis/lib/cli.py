"""The command line in French: argument errors and help of every ``manage.py`` command, and
system errors.

Python's :mod:`argparse` writes its messages through ``gettext`` but ships no French catalogue;
:func:`install` gives it the French of the messages a user can meet (missing or unknown
arguments, invalid values, usage, help), and gives the options Django adds to every command
(``--verbosity``, ``--settings``, …) their help in French (:data:`DJANGO_HELP`). ``manage.py``
installs it before running a command, and turns an uncaught system error (a file that cannot be
read or written, a full disk) into one French line (:func:`os_error`) instead of a traceback.

Both catalogues are checked against the running Python's :mod:`argparse` and Django by
``lib/tests/test_cli.py``: a message added or reworded upstream fails there, loudly.
"""

from __future__ import annotations

import argparse
import datetime
import errno
import gettext as _gettext

MESSAGES = {
    "usage: ": "utilisation : ",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments inconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "choix invalide : %(value)r (choisir parmi %(choices)s)"
    ),
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s attendu) : %(value)r",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "expected one argument": "une valeur est attendue",
    "expected at least one argument": "au moins une valeur est attendue",
    "expected at most one argument": "une valeur au plus est attendue",
    "ambiguous option: %(option)s could match %(matches)s": (
        "option ambiguë : %(option)s peut désigner %(matches)s"
    ),
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "ignored explicit argument %r": "valeur %r ignorée",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "unexpected option string: %s": "option inattendue : %s",
    "show this help message and exit": "afficher cette aide et quitter",
    "positional arguments": "arguments",
    "options": "options",
}
PLURALS = {
    "expected %s argument": ("%s valeur attendue", "%s valeurs attendues"),
}
# The help of the options Django's ``BaseCommand`` gives every command, as Django writes it.
DJANGO_HELP = {
    "Show program's version number and exit.": "afficher le numéro de version et quitter",
    (
        "Verbosity level; 0=minimal output, 1=normal output, 2=verbose output, "
        "3=very verbose output"
    ): "niveau de détail : 0 minimal, 1 normal, 2 détaillé, 3 très détaillé",
    (
        "The Python path to a settings module, e.g. "
        '"myproject.settings.main". If this isn\'t provided, the '
        "DJANGO_SETTINGS_MODULE environment variable will be used."
    ): (
        "module Python des réglages, par exemple « mutualis.settings » ; à défaut, celui que "
        "nomme la variable d'environnement DJANGO_SETTINGS_MODULE"
    ),
    (
        'A directory to add to the Python path, e.g. "/home/djangoprojects/myproject".'
    ): "dossier à ajouter au chemin de recherche de Python, par exemple « /opt/mutualis »",
    "Display a full stack trace on CommandError exceptions.": (
        "afficher la pile d'appels complète quand la commande échoue"
    ),
    "Don't colorize the command output.": "ne pas colorer la sortie de la commande",
    "Force colorization of the command output.": "colorer la sortie de la commande",
    "Skip system checks.": "ne pas lancer les vérifications du système",
}
TYPE_NAMES = {"int": "nombre entier", "float": "nombre", "Path": "chemin", "date": "date"}


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    french = PLURALS.get(singular)
    if french is None:
        return _gettext.ngettext(singular, plural, n)
    return french[0] if n < 2 else french[1]


def install() -> None:
    """Make :mod:`argparse` (and so every ``manage.py`` command) speak French."""
    # argparse looks both names up in its module at call time: replacing them translates it.
    setattr(argparse, "_", gettext)  # noqa: B010
    setattr(argparse, "ngettext", ngettext)  # noqa: B010
    original = argparse.ArgumentParser._get_value
    if getattr(original, "_mutualis_french", False):
        return

    def _get_value(self, action, arg_string):
        try:
            return original(self, action, arg_string)
        except argparse.ArgumentError as exc:
            name = getattr(action.type, "__name__", "")
            if name in TYPE_NAMES and exc.message.startswith("valeur invalide ("):
                exc.message = f"{TYPE_NAMES[name]} invalide : {arg_string!r}"
            raise

    _get_value._mutualis_french = True  # type: ignore[attr-defined]
    setattr(argparse.ArgumentParser, "_get_value", _get_value)  # noqa: B010
    _install_django_help()


def french_help(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``parser`` with the help of Django's own options in French (:data:`DJANGO_HELP`), and
    every help text with French typography (no line of the help starts with « : » or « ; »)."""
    from mutualis.lib.french import typography

    if parser.description:
        parser.description = typography(parser.description)
    for action in parser._actions:
        if isinstance(action.help, str) and action.help != argparse.SUPPRESS:
            action.help = typography(DJANGO_HELP.get(action.help, action.help))
    return parser


def _install_django_help() -> None:
    from django.core.management.base import BaseCommand

    original = BaseCommand.create_parser
    if getattr(original, "_mutualis_french", False):
        return

    def create_parser(self, prog_name, subcommand, **kwargs):
        return french_help(original(self, prog_name, subcommand, **kwargs))

    create_parser._mutualis_french = True  # type: ignore[attr-defined]
    create_parser.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(BaseCommand, "create_parser", create_parser)  # noqa: B010


ERRNO_MESSAGES = {
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.EEXIST: "le fichier existe déjà",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.ECONNREFUSED: "connexion refusée",
    errno.ETIMEDOUT: "délai de connexion dépassé",
    errno.EHOSTUNREACH: "hôte injoignable",
    errno.ENETUNREACH: "réseau injoignable",
}


def os_error(exc: OSError) -> str:
    """A system error in French, with the file it is about: ``"… : fichier ou dossier
    introuvable"``."""
    reason = ERRNO_MESSAGES.get(exc.errno or 0)
    if reason is None:
        reason = f"erreur système n° {exc.errno}" if exc.errno else "erreur système"
    where = exc.filename if exc.filename is not None else ""
    return f"{where} : {reason}" if where else reason


def iso_date(text: str, *, option: str = "--date") -> datetime.date:
    """A date given on the command line as AAAA-MM-JJ; a French error otherwise."""
    from django.core.management.base import CommandError

    try:
        return datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise CommandError(f"{option} : date invalide {text!r} (format AAAA-MM-JJ).") from None
