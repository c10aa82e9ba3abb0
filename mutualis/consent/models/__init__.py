"""The consent app's models: choices and their proof, notices, campaigns and their send log."""

from mutualis.consent.models.campaigns import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
)
from mutualis.consent.models.choices import (
    CHANNEL_ADDRESS_FIELD,
    MARKETING_TOPICS,
    STAFF_SOURCES,
    TOPIC_HELP,
    Action,
    AppendOnly,
    Channel,
    ConsentEvent,
    ConsentEventQuerySet,
    MarketingObjection,
    MarketingObjectionQuerySet,
    Preference,
    Source,
    Topic,
)
from mutualis.consent.models.notices import ConsentDocument, ConsentNotice

__all__ = [
    "CHANNEL_ADDRESS_FIELD",
    "MARKETING_TOPICS",
    "STAFF_SOURCES",
    "TOPIC_HELP",
    "Action",
    "AppendOnly",
    "Campaign",
    "CampaignKind",
    "CampaignStatus",
    "Channel",
    "ConsentDocument",
    "ConsentEvent",
    "ConsentEventQuerySet",
    "ConsentNotice",
    "Delivery",
    "DeliveryStatus",
    "MarketingObjection",
    "MarketingObjectionQuerySet",
    "Preference",
    "Source",
    "Topic",
]
