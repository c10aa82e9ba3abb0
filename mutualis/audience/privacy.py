"""Declaration of the audience statistics (policy section II; CNIL audience exemption)."""

from mutualis.privacy import catalogue as c
from mutualis.privacy.declaration import personal
from mutualis.privacy.registry import declare, declare_not_personal

_MEASURED = personal(c.AUDIENCE, [c.AUDIENCE_STATISTICS], provided=False)

# Raw events: a random browser identifier, never a person. 25 months at most, then only the
# aggregates remain (the retention handler aggregates before it deletes).
declare(
    "audience.AudienceEvent",
    fields={
        name: _MEASURED
        for name in ("at", "visitor", "visitor_since", "kind", "page", "browser", "duration_ms")
    },
    purpose=c.AUDIENCE_STATISTICS,
    retention_anchor="at",
    retention_handler="mutualis.audience.aggregation.expire_events",
)
# Counts per day, with no identifier: anonymous data.
declare_not_personal("audience.DailyAggregate")
declare_not_personal("audience.AggregatedDay")
