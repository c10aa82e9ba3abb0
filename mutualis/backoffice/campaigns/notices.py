"""The notices shown when a consent is asked, and their versions (communication service)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.campaigns.forms import NoticeForm
from mutualis.consent import notices
from mutualis.consent.models import ConsentEvent, ConsentNotice, Topic
from mutualis.members.roles import Permission


@staff_view(Permission.CAMPAIGN_MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def notice_list(request: HttpRequest) -> HttpResponse:
    form = NoticeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            notice = notices.publish_notice(**form.cleaned_data, actor=request.user)
        except notices.NoticeError as error:
            form.add_error("text", str(error))
        else:
            messages.success(
                request,
                f"Mention « {notice.get_topic_display()} » en vigueur : version {notice.version}.",
            )
            return redirect("backoffice:notice_list")
    current = notices.current_notices()
    groups = []
    for topic in Topic:
        versions = list(ConsentNotice.objects.filter(topic=topic).order_by("-version"))
        used = {n: ConsentEvent.objects.filter(notice=n).count() for n in versions}
        groups.append({"topic": topic, "current": current[topic.value], "versions": used.items()})
    return render_page(
        request, "backoffice/campaigns/notices.html", {"form": form, "groups": groups}
    )
