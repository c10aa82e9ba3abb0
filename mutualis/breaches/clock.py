"""The 72-hour clock of GDPR art. 33(1): a breach likely to result in a risk is notified to the
CNIL without undue delay and, where feasible, within 72 hours of becoming aware of it; a later
notification states the reasons for the delay."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from mutualis.breaches.models import Breach, Risk, Status

NOTIFICATION_DELAY = datetime.timedelta(hours=72)


class ClockState:
    RUNNING = "running"
    OVERDUE = "overdue"
    NOTIFIED = "notified"
    NOTIFIED_LATE = "notified_late"
    NOT_REQUIRED = "not_required"


@dataclass(frozen=True)
class Clock:
    deadline: datetime.datetime
    state: str
    remaining: datetime.timedelta  # negative once overdue

    @property
    def urgent(self) -> bool:
        return self.state in (ClockState.RUNNING, ClockState.OVERDUE)

    @property
    def text(self) -> str:
        when = timezone.localtime(self.deadline).strftime("%d/%m/%Y à %H:%M")
        if self.state == ClockState.NOTIFIED:
            return "notifiée à la CNIL dans les 72 heures"
        if self.state == ClockState.NOTIFIED_LATE:
            return "notifiée à la CNIL après le délai de 72 heures (motif du retard indiqué)"
        if self.state == ClockState.NOT_REQUIRED:
            return (
                "notification non requise : risque improbable pour les personnes (décision motivée)"
            )
        hours = int(abs(self.remaining).total_seconds() // 3600)
        minutes = int(abs(self.remaining).total_seconds() % 3600 // 60)
        if self.state == ClockState.OVERDUE:
            return (
                f"délai de 72 heures dépassé de {hours} h {minutes:02d} (échéance du {when}) : "
                "notifiez sans attendre et motivez le retard"
            )
        return f"{hours} h {minutes:02d} pour notifier la CNIL (échéance le {when})"


def clock(breach: Breach, now: datetime.datetime | None = None) -> Clock:
    now = now or timezone.now()
    deadline = breach.discovered_at + NOTIFICATION_DELAY
    remaining = deadline - now
    if breach.cnil_notified_at is not None:
        late = breach.cnil_notified_at > deadline
        state = ClockState.NOTIFIED_LATE if late else ClockState.NOTIFIED
    elif breach.risk == Risk.UNLIKELY:
        state = ClockState.NOT_REQUIRED
    else:
        state = ClockState.OVERDUE if remaining < datetime.timedelta(0) else ClockState.RUNNING
    return Clock(deadline=deadline, state=state, remaining=remaining)


def urgent_breaches(now: datetime.datetime | None = None) -> list[tuple[Breach, Clock]]:
    """Open breaches whose notification is still due: shown on every page of the DPO."""
    found = []
    for breach in Breach.objects.filter(status=Status.OPEN, cnil_notified_at__isnull=True).exclude(
        risk=Risk.UNLIKELY
    ):
        current = clock(breach, now)
        if current.urgent:
            found.append((breach, current))
    return found
