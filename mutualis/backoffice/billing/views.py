"""The cotisations service's pages: the unpaid-premium queue, a member's account (schedule,
ledger, debits, notices, the case and its letters; payments, plans, notice and termination),
the debit batches and their files, the bank returns and their import."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mutualis import audit
from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.billing.forms import (
    ConfirmForm,
    HandleForm,
    PaymentForm,
    PlanForm,
    PrintRunForm,
    ReturnsFileForm,
)
from mutualis.billing import calendar, dunning, ledger, letters, notice_letters, statement
from mutualis.billing.models import (
    DebitBatch,
    DebitReturn,
    DebitStatus,
    DunningCase,
    DunningLetter,
    DunningStage,
    LedgerEntry,
    Mandate,
    PaymentPlan,
    ReturnStatus,
)
from mutualis.billing.returns import codes
from mutualis.billing.returns.apply import import_bytes
from mutualis.billing.returns.parse import ReturnFileError
from mutualis.billing.sepa import release
from mutualis.billing.tags import BillingTag
from mutualis.lib.french import plural
from mutualis.members.models import Member
from mutualis.members.roles import Permission

VIEW = Permission.BILLING_VIEW
MANAGE = Permission.BILLING_MANAGE


def _member(member_id) -> Member:
    return get_object_or_404(Member.objects.select_related("person"), pk=member_id)


def _case(case_id) -> DunningCase:
    return get_object_or_404(
        DunningCase.objects.select_related("contract__member__person"), pk=case_id
    )


def _back_to(member: Member) -> HttpResponse:
    return redirect("backoffice:billing_member", member_id=member.pk)


@staff_view(VIEW)
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    cases = list(
        DunningCase.objects.filter(stage__in=dunning.OPEN)
        .select_related("contract__member__person")
        .order_by("due_date")
    )
    rows = []
    for case in cases:
        due_step = ""
        if case.stage == DunningStage.OVERDUE and today >= dunning.notice_possible_on(case):
            due_step = "mise en demeure à envoyer"
        elif case.stage == DunningStage.SUSPENDED and today >= dunning.termination_possible_on(
            case
        ):
            due_step = "résiliation possible"
        rows.append({"case": case, "due_step": due_step, "plan": dunning.active_plan(case)})
    context = {
        "today": today,
        "to_do": [r for r in rows if r["due_step"] and r["plan"] is None],
        "unpaid": [r for r in rows if r["case"].stage != DunningStage.SUSPENDED],
        "suspended": [r for r in rows if r["case"].stage == DunningStage.SUSPENDED],
        "open_returns": DebitReturn.objects.filter(status=ReturnStatus.OPEN).count(),
        **_notices_to_post(today),
        "can_manage": request.user.has_perm(MANAGE),
    }
    return render_page(request, "backoffice/billing/queue.html", context)


@staff_view(VIEW)
@require_safe
def member_account(request: HttpRequest, member_id) -> HttpResponse:
    member = _member(member_id)
    today = timezone.localdate()
    year = today.year
    raw = request.GET.get("annee", "")
    if raw.isdigit() and 2000 <= int(raw) <= today.year + 1:
        year = int(raw)
    case = statement.open_case(member)
    context = {
        "member": member,
        "today": today,
        "year": year,
        "balance": ledger.balance(member, on=today),
        "months": statement.schedule(member, year=year, today=today),
        "entries": LedgerEntry.objects.filter(member=member).order_by("-booked_on", "-created_at")[
            :200
        ],
        "debits": member.debits.select_related("batch", "mandate").order_by(
            "-batch__collection_date"
        )[:36],
        "notices": statement.notices_of(member, today=today),
        "next_debit": statement.next_debit(member, today=today),
        "mandates": Mandate.objects.filter(member=member).order_by("-signed_at"),
        "case": case,
        "plan": dunning.active_plan(case) if case else None,
        "cases": DunningCase.objects.filter(contract__member=member).order_by("-opened_at"),
        "letters": statement.letters_of(member),
        "can_manage": request.user.has_perm(MANAGE),
        "payment_form": PaymentForm(initial={"paid_on": today}),
        "plan_form": PlanForm(initial={"instalment_count": 3, "first_date": today}),
        "confirm_form": ConfirmForm(),
    }
    if case:
        context.update(
            notice_possible=dunning.notice_possible_on(case),
            termination_possible=dunning.termination_possible_on(case),
        )
    return render_page(request, "backoffice/billing/member.html", context)


def _invalid(request: HttpRequest, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@staff_view(MANAGE)
@require_POST
def record_payment(request: HttpRequest, member_id) -> HttpResponse:
    member = _member(member_id)
    form = PaymentForm(request.POST)
    if not form.is_valid():
        _invalid(request, form)
        return _back_to(member)
    data = form.cleaned_data
    try:
        dunning.record_payment(
            member=member,
            kind=data["kind"],
            amount=data["amount"],
            paid_on=data["paid_on"],
            reference=data["reference"],
            actor=request.user,
        )
    except dunning.DunningError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Paiement de {data['amount']} € enregistré.")
    return _back_to(member)


@staff_view(MANAGE)
@require_POST
def send_notice(request: HttpRequest, case_id) -> HttpResponse:
    case = _case(case_id)
    try:
        dunning.send_notice(case, today=timezone.localdate(), actor=request.user)
    except dunning.DunningError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Mise en demeure envoyée ; la lettre est à poster.")
    return _back_to(case.contract.member)


@staff_view(MANAGE)
@require_POST
def terminate(request: HttpRequest, case_id) -> HttpResponse:
    case = _case(case_id)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        _invalid(request, form)
        return _back_to(case.contract.member)
    try:
        dunning.terminate(case, today=timezone.localdate(), actor=request.user)
    except dunning.DunningError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Contrat n° {case.contract.number} résilié.")
    return _back_to(case.contract.member)


@staff_view(MANAGE)
@require_POST
def grant_plan(request: HttpRequest, case_id) -> HttpResponse:
    case = _case(case_id)
    form = PlanForm(request.POST)
    if not form.is_valid():
        _invalid(request, form)
        return _back_to(case.contract.member)
    try:
        plan = dunning.grant_plan(
            case=case,
            instalment_count=form.cleaned_data["instalment_count"],
            first_date=form.cleaned_data["first_date"],
            actor=request.user,
        )
    except dunning.DunningError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"Échéancier accordé : {plan.instalment_count} × {plan.instalment_amount} €."
        )
    return _back_to(case.contract.member)


@staff_view(MANAGE)
@require_POST
def end_plan(request: HttpRequest, plan_id) -> HttpResponse:
    plan = get_object_or_404(
        PaymentPlan.objects.select_related("case__contract__member"), pk=plan_id
    )
    try:
        dunning.end_plan(plan, actor=request.user)
    except dunning.DunningError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Échéancier terminé : la procédure d'impayé reprend.")
    return _back_to(plan.case.contract.member)


@staff_view(MANAGE, recent_auth=True)
@require_safe
def letter_pdf(request: HttpRequest, letter_id) -> HttpResponse:
    """A letter to print and post (it holds the member's name and address): re-authentication
    first, as for every export."""
    letter = get_object_or_404(
        DunningLetter.objects.select_related("case__contract__member__person"), pk=letter_id
    )
    with transaction.atomic():
        audit.record(
            BillingTag.LETTER_SEND,
            actor=request.user,
            subject=letter.case.contract.member.person_id,
            target=letter,
            details={"kind": letter.kind, "printed": True},
        )
    response = HttpResponse(letters.render_pdf([letter]), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="lettre-{letter.kind}.pdf"'
    return response


@staff_view(VIEW)
@require_http_methods(["GET", "HEAD", "POST"])
def notices_by_post(request: HttpRequest) -> HttpResponse:
    """The notices of coming debits to post to members without an e-mail address: printed in
    runs (``billing.notice_letters``), each run recorded as posted, then printable again."""
    can_manage = request.user.has_perm(MANAGE)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        form = PrintRunForm(request.POST)
        if form.is_valid():
            run, found = notice_letters.print_run(
                made_until=form.cleaned_data["made_until"], actor=request.user
            )
            if found:
                messages.success(
                    request,
                    f"Tirage préparé : {len(found)} courrier{plural(len(found))}, inscrit"
                    f"{plural(len(found))} comme remis au courrier. Imprimez-le ci-dessous.",
                )
                return redirect(reverse("backoffice:billing_notices_post") + f"#tirage-{run}")
            messages.info(request, "Aucun avis à poster : ils l'ont déjà été.")
        else:
            messages.error(request, "Demande de tirage invalide : rechargez la page.")
        return redirect("backoffice:billing_notices_post")
    today = timezone.localdate()
    waiting = notice_letters.pending(today).order_by()
    found = notice_letters.letters(waiting)
    page = Paginator(found, NOTICE_PAGE).get_page(request.GET.get("page"))
    newest = waiting.aggregate(newest=Max("created_at"))["newest"]
    context = {
        "page": page,
        "letters": len(found),
        "unaddressed": sum(not letter.addressed for letter in found),
        "rows": [_last_posting_day(letter, today) for letter in page],
        "URGENT": URGENT_DAYS,
        "notice_days": calendar.notice_days(),
        # ISO 8601 with its offset, to the microsecond: read back as the same instant.
        "form": PrintRunForm(initial={"made_until": newest.isoformat()}) if newest else None,
        "run_letters": notice_letters.RUN_LETTERS,
        "runs": notice_letters.recent_runs(),
        "can_manage": can_manage,
    }
    return render_page(request, "backoffice/billing/notices_post.html", context)


NOTICE_PAGE = 100
# Under this many days left to post a letter (today and the next two), the page shows it in
# bold.
URGENT_DAYS = 3


def _notices_to_post(today: datetime.date) -> dict:
    """The letters waiting, and those of them to post within ``URGENT_DAYS``."""
    letters = notice_letters.pending(today).values("mandate").distinct()
    soon = today + datetime.timedelta(days=calendar.notice_days() + URGENT_DAYS - 1)
    return {
        "notices_to_post": letters.count(),
        "notices_urgent": letters.filter(collection_date__lte=soon).count(),
        "urgent_days": URGENT_DAYS,
    }


def _last_posting_day(letter, today: datetime.date) -> tuple:
    """``(letter, the last day to post it, days left)``: past it, its first debit is not
    presented (a notice counts from its posting)."""
    last_day = calendar.latest_notice_day(letter.notices[0].collection_date)
    return letter, last_day, (last_day - today).days


@staff_view(MANAGE, recent_auth=True)
@require_safe
def notices_run_pdf(request: HttpRequest, run_id) -> HttpResponse:
    """A print run's letters (names, addresses, amounts): re-authentication first, each member's
    printing audited."""
    found = notice_letters.run_letters(run_id)
    if not found:
        raise Http404("Aucun tirage ne porte cet identifiant.")
    with transaction.atomic():
        for letter in found:
            audit.record(
                BillingTag.PRENOTIFY_PRINT,
                actor=request.user,
                subject=letter.person.pk,
                target=letter.mandate,
                details={"run": str(run_id)},
            )
    posted = timezone.localdate(found[0].notices[0].posted_at)
    response = HttpResponse(
        notice_letters.render_pdf(found, day=posted), content_type="application/pdf"
    )
    response["Content-Disposition"] = content_disposition_header(
        True, f"avis-de-prelevement-{posted:%Y-%m-%d}.pdf"
    )
    return response


@staff_view(VIEW)
@require_safe
def batches(request: HttpRequest) -> HttpResponse:
    returned = ~Q(debits__status__in=(DebitStatus.PENDING, DebitStatus.SENT))
    rows = DebitBatch.objects.annotate(returned=Count("debits", filter=returned)).order_by(
        "-collection_date"
    )[:60]
    return render_page(request, "backoffice/billing/batches.html", {"batches": rows})


@staff_view(VIEW)
@require_safe
def batch_detail(request: HttpRequest, batch_id) -> HttpResponse:
    batch = get_object_or_404(DebitBatch, pk=batch_id)
    groups = release.groups(batch)
    statuses = batch.debits.values("status").annotate(count=Count("pk")).order_by("status")
    context = {
        "batch": batch,
        "groups": groups,
        "statuses": [(DebitStatus(s["status"]).label, s["count"]) for s in statuses],
        "can_manage": request.user.has_perm(MANAGE),
    }
    return render_page(request, "backoffice/billing/batch.html", context)


@staff_view(MANAGE, recent_auth=True)
@require_safe
def batch_file(request: HttpRequest, batch_id) -> HttpResponse:
    """The released pain.008 file (names and IBANs): re-authentication first, audited."""
    from pathlib import Path

    batch = get_object_or_404(DebitBatch, pk=batch_id, file_sha256__gt="")
    path = Path(settings.MUTUALIS_SEPA_OUT_DIR) / batch.file_name
    if not path.is_file():
        raise Http404("Le fichier de cette remise n'est plus dans le dossier des remises.")
    with transaction.atomic():
        audit.record(
            BillingTag.BATCH_DOWNLOAD,
            actor=request.user,
            target=batch,
            details={"file": batch.file_name, "sha256": batch.file_sha256},
        )
    response = StreamingHttpResponse(_chunks(path), content_type="application/xml")
    response["Content-Disposition"] = content_disposition_header(True, batch.file_name)
    return response


def _chunks(path, size: int = 1 << 20):
    """The file by pieces, opened only when the answer is sent (and closed after)."""
    with open(path, "rb") as handle:
        yield from iter(lambda: handle.read(size), b"")


@staff_view(VIEW)
@require_http_methods(["GET", "HEAD", "POST"])
def returns(request: HttpRequest) -> HttpResponse:
    can_manage = request.user.has_perm(MANAGE)
    form = ReturnsFileForm()
    if request.method == "POST":
        if not can_manage:
            return render_page(
                request,
                "backoffice/forbidden.html",
                {"message": "Votre service ne peut pas importer de fichier."},
                status=403,
            )
        form = ReturnsFileForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                outcome = import_bytes(upload.read(), file_name=upload.name, actor=request.user)
            except ReturnFileError as error:
                form.add_error("file", f"{error} Rien n'a été importé.")
            else:
                n = outcome.applied
                if outcome.already:
                    messages.info(request, "Ce fichier a déjà été importé : rien à refaire.")
                else:
                    checked = f" Fichier {outcome.checked()}." if outcome.checked() else ""
                    messages.success(
                        request,
                        f"{n} retour{plural(n)} enregistré{plural(n)}, à traiter ci-dessous."
                        + checked,
                    )
                return redirect("backoffice:billing_returns")
    state = request.GET.get("etat", "open")
    rows = DebitReturn.objects.select_related(
        "debit__member__person", "debit__batch", "file"
    ).order_by("-booked_on")
    if state != "all":
        rows = rows.filter(status=ReturnStatus.OPEN)
    context = {
        "rows": [(r, codes.label(r.reason_code)) for r in rows[:300]],
        "form": form,
        "state": state,
        "can_manage": can_manage,
        "handle_form": HandleForm(),
    }
    return render_page(request, "backoffice/billing/returns.html", context)


@staff_view(MANAGE)
@require_POST
def handle_return(request: HttpRequest, return_id) -> HttpResponse:
    returned = get_object_or_404(DebitReturn.objects.select_related("debit__member"), pk=return_id)
    form = HandleForm(request.POST)
    if not form.is_valid():
        _invalid(request, form)
        return redirect("backoffice:billing_returns")
    with transaction.atomic():
        updated = DebitReturn.objects.filter(pk=returned.pk, status=ReturnStatus.OPEN).update(
            status=ReturnStatus.HANDLED,
            handled_by=ledger.actor_label(request.user),
            handled_at=timezone.now(),
            note=(returned.note + "\n" + form.cleaned_data["note"]).strip()[:2000],
        )
        if updated:
            audit.record(
                BillingTag.RETURN_HANDLE,
                actor=request.user,
                subject=returned.debit.member.person_id,
                target=returned,
            )
    if updated:
        messages.success(request, "Retour marqué comme traité.")
    else:
        messages.info(request, "Ce retour était déjà traité.")
    return redirect("backoffice:billing_returns")
