"""The unsubscribe link of a campaign message: no login, one click, RFC 8058.

``GET`` shows what the link will stop, with one button; ``POST`` with the body
``List-Unsubscribe=One-Click`` withdraws the consent at once. The same POST is what a mail
client sends by itself when its reader presses "unsubscribe" (RFC 8058 § 3.1): no cookie, no
CSRF token, no page, so the view is exempt from CSRF — a forged POST could only do what the
link's holder may do anyway, withdraw that consent. A link scanner's ``GET`` changes nothing.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from mutualis.consent import unsubscribe
from mutualis.consent.models import Topic
from mutualis.consent.models.campaigns import KIND_TOPIC

ONE_CLICK_FIELD, ONE_CLICK_VALUE = "List-Unsubscribe", "One-Click"


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    delivery = unsubscribe.delivery_for(token)
    if delivery is None:
        return render(request, "web/unsubscribe/invalid.html", status=404)
    context = {
        "topic_label": Topic(KIND_TOPIC[delivery.campaign.kind]).label,
        "field": ONE_CLICK_FIELD,
        "value": ONE_CLICK_VALUE,
    }
    if request.method == "POST":
        if request.POST.get(ONE_CLICK_FIELD) != ONE_CLICK_VALUE:
            return render(request, "web/unsubscribe/confirm.html", context, status=400)
        event = unsubscribe.unsubscribe(delivery=delivery, actor=request.user)
        context["already"] = event is None
        return render(request, "web/unsubscribe/done.html", context)
    context["subscribed"] = unsubscribe.is_subscribed(delivery)
    return render(request, "web/unsubscribe/confirm.html", context)
