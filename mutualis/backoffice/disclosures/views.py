"""The disclosure register: what went to which recipient, when, about whom, and why (GDPR art.
30(1)(d)), with filters by recipient, organisation, person and period, and a CSV export.
People are named by id (and member number), never in clear."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.disclosures.forms import DisclosureFilterForm
from mutualis.members.models import Member
from mutualis.members.roles import Permission
from mutualis.recipients import register

PER_PAGE = 50
COLUMNS = [
    "n°",
    "date",
    "destinataire",
    "organisme",
    "personne",
    "n° d'adhérent",
    "catégories",
    "motif",
    "tenue secrète",
]


def _form(request: HttpRequest) -> DisclosureFilterForm:
    return DisclosureFilterForm(request.GET if request.GET else None)


def _search(form: DisclosureFilterForm):
    filters = form.filters()
    return register.search().none() if filters is None else register.search(**filters)


def _numbers(rows) -> dict[str, str]:
    ids = {row.subject_id for row in rows}
    found = Member.objects.filter(person_id__in=ids).values_list("person_id", "number")
    return {str(pk): number for pk, number in found}


@staff_view(Permission.DISCLOSURE_VIEW)
@require_http_methods(["GET", "HEAD", "POST"])
def disclosure_register(request: HttpRequest) -> HttpResponse:
    # The filter form posts, so that a NIR typed in it by mistake never reaches an address or a
    # server log; a valid filter comes back as a link holding only ids, dates and a recipient.
    if request.method == "POST":
        form = DisclosureFilterForm(request.POST)
        if form.is_valid():
            query = {name: str(value) for name, value in form.cleaned_data.items() if value}
            target = reverse("backoffice:disclosure_register")
            return redirect(f"{target}?{urlencode(query)}" if query else target)
    else:
        form = _form(request)
    qs = _search(form)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    rows = register.rows(page.object_list, withheld=register.withheld_ids(d.pk for d in page))
    query = form.data.copy() if form.is_bound else request.GET.copy()  # scrubbed of any NIR
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "numbers": _numbers(rows),
        "query": query.urlencode(),
        "total": qs.count(),
    }
    return render_page(request, "backoffice/disclosures/register.html", context)


@staff_view(Permission.DISCLOSURE_VIEW, recent_auth=True)
@require_safe
def disclosure_register_csv(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    qs = _search(form)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(COLUMNS)
    for start in range(0, qs.count(), 2000):
        chunk = list(qs[start : start + 2000])
        rows = register.rows(chunk, withheld=register.withheld_ids(d.pk for d in chunk))
        numbers = _numbers(rows)
        for row in rows:
            writer.writerow(
                [
                    row.pk,
                    timezone.localtime(row.at).isoformat(timespec="seconds"),
                    row.recipient,
                    row.organisation,
                    row.subject_id,
                    numbers.get(row.subject_id, ""),
                    ", ".join(row.categories),
                    row.reason,
                    "oui" if row.withheld else "non",
                ]
            )
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"registre-des-communications-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
