"""Building blocks of the online subscription's forms.

Django fields check types and lengths; every subscription rule comes from
:func:`mutualis.contracts.application.check_application`, run on the application the draft would
give with the step's values. Its problems (``member.nir``, ``beneficiaries[2].birth_date``,
``payment.iban``…) are mapped to the form's fields (:class:`StepForm`).

A NIR or an IBAN is never written back into a page: its input is always rendered empty
(:class:`SecretInput`), and the value already kept in the draft is shown masked, to be kept by
leaving the field blank (:class:`SecretMixin`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from mutualis.contracts.application import Problem, check_application
from mutualis.members import validators
from mutualis.members.models import Civility, User
from mutualis.web.subscription import steps
from mutualis.web.subscription.steps import Step, Wizard

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
DATE_HELP = "Au format jj/mm/aaaa."


class DateInput(forms.DateInput):
    """``<input type="date">``: browsers send ISO dates; dd/mm/yyyy typed by hand is accepted."""

    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class SecretInput(forms.TextInput):
    """A text input whose value is never rendered (NIR, IBAN)."""

    def format_value(self, value: Any) -> None:
        return None


def required(message: str) -> dict[str, str]:
    return {"required": message}


def date_field(label: str, message: str, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=DATE_INPUT_FORMATS,
        widget=DateInput(),
        help_text=DATE_HELP,
        error_messages={
            "required": message,
            "invalid": "Saisissez une date valide, par exemple 14/07/1985.",
        },
        **kwargs,
    )


def civility_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Civilité",
        choices=Civility.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choisissez « Madame » ou « Monsieur ».",
            "invalid_choice": "Choisissez « Madame » ou « Monsieur ».",
        },
    )


def secret_field(label: str, *, max_length: int, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        help_text=help_text,
        widget=SecretInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "max_length": "Ce numéro compte trop de caractères : vérifiez-le.",
        },
    )


class StepForm(forms.Form):
    """A step's form: Django fields, then the subscription rules of ``check_application``."""

    step: Step
    # Problem.field (as reported by check_application) → name of the field in this form.
    problem_fields: dict[str, str] = {}
    # Problem.field values shown at the top of the form (not attached to one field).
    form_problems: tuple[str, ...] = ()

    def __init__(self, *args: Any, wizard: Wizard, **kwargs: Any) -> None:
        self.wizard = wizard
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    # --- For subclasses ---------------------------------------------------------------------
    def payload_values(self) -> Any:
        """The step's values as stored in the draft (JSON)."""
        return {name: self.cleaned_data.get(name) for name in self.fields}

    def candidate(self) -> dict[str, Any]:
        return self.wizard.candidate(self.step, self.payload_values())

    def field_for_problem(self, problem: Problem) -> str | None:
        return self.problem_fields.get(problem.field)

    # --- Checking ---------------------------------------------------------------------------
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        problems = check_application(steps.build_application(self.candidate()))
        baseline: set[Problem] | None = None
        for problem in problems:
            name = self.field_for_problem(problem)
            if name is not None:
                if name not in self.errors and name in self.fields:
                    self.add_error(name, problem.message)
            elif problem.field in self.form_problems:
                if baseline is None:  # only what this step's values add
                    baseline = set(self.wizard.problems())
                if problem not in baseline:
                    self.add_error(None, problem.message)
        return cleaned

    # --- Display ----------------------------------------------------------------------------
    def error_links(self) -> list[tuple[str, str]]:
        """(link to the field, message) for the error summary at the top of the page."""
        links = []
        for name, errors in self.errors.items():
            if name == NON_FIELD_ERRORS or name not in self.fields:
                href = ""
            else:
                bound = self[name]
                href = "#" + bound.auto_id + ("_0" if bound.use_fieldset else "")
            links.extend((href, str(message)) for message in errors)
        return links


def compact(value: str, validate) -> str:
    """The normalised form of a value when it is valid, else the value as typed."""
    try:
        return validate(value)
    except ValidationError:
        return value


def _secret_help(kind: str, stored: str, mask) -> str:
    if stored:
        return (
            f"{kind} déjà saisi : {mask(stored)}. Pour votre sécurité, il n'est pas réaffiché : "
            "laissez ce champ vide pour le conserver, ou saisissez-le de nouveau pour le changer."
        )
    return ""


EMAIL_IN_USE = (
    "Cette adresse électronique est déjà utilisée pour un espace adhérent. Indiquez une autre "
    "adresse ou, si vous êtes déjà adhérent, connectez-vous à votre espace."
)


def email_in_use(email: str) -> bool:
    """One member-space account per address: the account is opened at confirmation."""
    return User.objects.filter(email__iexact=email.strip()).exists()


class SecretMixin:
    """Resolve a secret field: what was typed, else what the draft already holds."""

    sensitive_field = "nir"
    pending_key = ""
    masked_label = "Numéro"
    secret_mask = staticmethod(validators.mask_nir)

    def describe_stored(self) -> None:
        """Show the value kept in the draft, masked, as the field's help."""
        stored = self.stored_secret()
        if stored:
            form: forms.Form = self  # type: ignore[assignment]
            form.fields[self.sensitive_field].help_text = _secret_help(
                self.masked_label, stored, self.secret_mask
            )
            # A bound field copies its help text when first built: build it again.
            form._bound_fields_cache.pop(self.sensitive_field, None)

    def stored_secret(self) -> str:
        raise NotImplementedError

    def secret_value(self) -> str:
        typed = (self.cleaned_data.get(self.sensitive_field) or "").strip()  # type: ignore[attr-defined]
        return typed or self.stored_secret()

    def secret_to_keep(self) -> str:
        """A valid secret newly typed, to keep in the draft when the form is sent back."""
        form: forms.Form = self  # type: ignore[assignment]
        typed = (form.cleaned_data.get(self.sensitive_field) or "").strip()
        if typed and self.sensitive_field not in form.errors:
            return typed
        return ""
