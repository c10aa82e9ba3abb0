"""A person's rights in the back office: their requests, the restrictions of processing on their
data (notice, then lift; the DPO's exception for legal claims), their post-mortem directives, and
the recording of their death.

Restrictions (GDPR art. 18) are lifted only after the person was told (art. 18(3)); the exception
for legal claims (art. 18(2)) is the DPO's alone (:func:`mutualis.privacy.restrictions
.allow_for_legal_claims` checks it again). The member page shows a banner for a restricted
person: :func:`member_panel`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.rights import forms
from mutualis.backoffice.rights.views import actor_names, member_of, purpose_title
from mutualis.lib.french import plural
from mutualis.members.models import Person
from mutualis.members.roles import Permission
from mutualis.privacy import restrictions
from mutualis.privacy.models import Restriction, RestrictionGround
from mutualis.rights import objection, post_mortem, services
from mutualis.rights.models import DeathRecord, PostMortemDirective, RightsRequest

USE_LABELS = dict(forms.OVERRIDE_USES)


@dataclass
class RestrictionRow:
    restriction: Restriction
    scope: str
    overrides: list[dict]
    needs_notice: bool
    notice_form: forms.RestrictionNoticeForm
    override_form: forms.OverrideForm


def _overrides(restriction: Restriction) -> list[dict]:
    names = actor_names({str(o.get("by", "")) for o in restriction.overrides or []})
    rows = []
    for entry in restriction.overrides or []:
        until = entry.get("until") or ""
        rows.append(
            {
                "at": entry.get("at", "")[:10],
                "by": names.get(entry.get("by", ""), entry.get("by", "")),
                "use": USE_LABELS.get(entry.get("use", ""), entry.get("use", "")),
                "reason": entry.get("reason", ""),
                "until": until[:10],
            }
        )
    return rows


def _rows(person: Person, bound=None, bound_id=None) -> list[RestrictionRow]:
    rows = []
    for restriction in Restriction.objects.filter(subject_id=str(person.pk)).order_by(
        "lifted_at", "-started_at"
    ):
        prefix = f"r{restriction.pk}"
        notice = forms.RestrictionNoticeForm(prefix=f"{prefix}-avis")
        override = forms.OverrideForm(prefix=f"{prefix}-exception")
        if bound is not None and bound_id == restriction.pk:
            if isinstance(bound, forms.RestrictionNoticeForm):
                notice = bound
            else:
                override = bound
        rows.append(
            RestrictionRow(
                restriction=restriction,
                scope=purpose_title(restriction.purpose),
                overrides=_overrides(restriction),
                needs_notice=restriction.ground == RestrictionGround.RESTRICTION
                and restriction.notice_sent_at is None,
                notice_form=notice,
                override_form=override,
            )
        )
    return rows


def _person_page(
    request: HttpRequest,
    person: Person,
    *,
    status: int = 200,
    bound=None,
    bound_id=None,
    death_form: forms.DeathForm | None = None,
) -> HttpResponse:
    user = request.user
    rows = _rows(person, bound, bound_id)
    context = {
        "person": person,
        "member": member_of(person),
        "can_view_member": user.has_perm(Permission.MEMBER_VIEW),
        "can_decide": user.has_perm(Permission.RIGHTS_DECIDE),
        "active": [row for row in rows if row.restriction.is_active],
        "lifted": [row for row in rows if not row.restriction.is_active],
        "requests": RightsRequest.objects.visible_to(user).filter(person=person),
        "directives": PostMortemDirective.objects.filter(person=person),
        "death": DeathRecord.objects.filter(person=person).first(),
        "death_form": death_form or forms.DeathForm(prefix="deces"),
    }
    return render_page(request, "backoffice/rights/person.html", context, status=status)


@staff_view(Permission.RIGHTS_VIEW)
@require_safe
def person_detail(request: HttpRequest, person_id) -> HttpResponse:
    return _person_page(request, get_object_or_404(Person, pk=person_id))


def _restriction(restriction_id) -> tuple[Restriction, Person]:
    restriction = get_object_or_404(Restriction, pk=restriction_id)
    person = get_object_or_404(Person, pk=_uuid_or_none(restriction.subject_id))
    return restriction, person


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _back(person: Person) -> HttpResponse:
    return redirect("backoffice:rights_person", person_id=person.pk)


@staff_view(Permission.RIGHTS_DECIDE)
@require_POST
def restriction_notice(request: HttpRequest, restriction_id: int) -> HttpResponse:
    """Tell the person the restriction will be lifted (GDPR art. 18(3))."""
    restriction, person = _restriction(restriction_id)
    form = forms.RestrictionNoticeForm(request.POST, prefix=f"r{restriction.pk}-avis")
    if form.is_valid():
        try:
            objection.notify_restriction_lift(
                restriction=restriction, reason=form.cleaned_data["reason"], actor=request.user
            )
        except (services.RightsError, restrictions.RestrictionError) as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, "Avis de levée envoyé à la personne : la limitation peut être levée."
            )
            return _back(person)
    form.scrub()
    return _person_page(request, person, status=400, bound=form, bound_id=restriction.pk)


@staff_view(Permission.RIGHTS_DECIDE)
@require_POST
def restriction_lift(request: HttpRequest, restriction_id: int) -> HttpResponse:
    restriction, person = _restriction(restriction_id)
    try:
        objection.lift_restriction(restriction=restriction, actor=request.user)
    except services.RightsError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Limitation levée : les traitements reprennent.")
    return _back(person)


@staff_view(Permission.RIGHTS_DECIDE)
@require_POST
def restriction_override(request: HttpRequest, restriction_id: int) -> HttpResponse:
    """The DPO allows one use despite the restriction, for legal claims (art. 18(2))."""
    restriction, person = _restriction(restriction_id)
    form = forms.OverrideForm(request.POST, prefix=f"r{restriction.pk}-exception")
    if form.is_valid():
        try:
            restrictions.allow_for_legal_claims(
                restriction=restriction,
                use=form.cleaned_data["use"],
                reason=form.cleaned_data["reason"],
                until=form.until_moment(),
                actor=request.user,
            )
        except restrictions.RestrictionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"Exception enregistrée : « {USE_LABELS[form.cleaned_data['use']]} » est permis "
                "pour la défense de droits en justice ; chaque usage est inscrit au journal.",
            )
            return _back(person)
    form.scrub()
    return _person_page(request, person, status=400, bound=form, bound_id=restriction.pk)


@staff_view(Permission.RIGHTS_DECIDE)
@require_POST
def death(request: HttpRequest, person_id) -> HttpResponse:
    """Record a death on proof: directives applied, designated person told (Loi 78-17 art. 85)."""
    person = get_object_or_404(Person, pk=person_id)
    form = forms.DeathForm(request.POST, prefix="deces")
    if form.is_valid():
        try:
            _, applied = post_mortem.record_death(
                person=person,
                date=form.cleaned_data["date_of_death"],
                proof_type=form.cleaned_data["proof_type"],
                actor=request.user,
            )
        except services.RightsError as error:
            form.add_error(None, str(error))
        else:
            told = [d.designated_name for d in applied if d.designated_email]
            message = "Décès enregistré ; compte fermé et accords retirés."
            if applied:
                n = len(applied)
                message += f" {n} directive{plural(n)} mise{plural(n)} en œuvre."
            if told:
                message += (
                    f" Personne{plural(len(told))} désignée{plural(len(told))} "
                    f"prévenue{plural(len(told))} par courriel : {', '.join(told)}."
                )
            messages.success(request, message)
            return _back(person)
    form.scrub()
    return _person_page(request, person, status=400, death_form=form)


# --- The member page's banner ------------------------------------------------------------------
@dataclass(frozen=True)
class RestrictedPerson:
    entry: object  # backoffice.record.PersonEntry
    restrictions: list[Restriction]

    @property
    def scopes(self) -> str:
        return ", ".join(
            f"{purpose_title(r.purpose).lower()} depuis le "
            f"{timezone.localtime(r.started_at):%d/%m/%Y} ({r.get_ground_display()})"
            for r in self.restrictions
        )


def member_panel(record, user) -> dict:
    """For the member page: who in the file is restricted (GDPR art. 18), and the way to the
    rights page of each person for those who follow rights."""
    restricted = [
        RestrictedPerson(entry, list(restrictions.active_restrictions(entry.person)))
        for entry in record.people
        if restrictions.is_restricted(entry.person)
    ]
    return {
        "restricted": restricted,
        "can_view": user.has_perm(Permission.RIGHTS_VIEW),
        "people": record.people,
    }
