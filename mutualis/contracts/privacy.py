from mutualis.contracts.models import DRAFT_LIFETIME
from mutualis.privacy import catalogue as c
from mutualis.privacy.declaration import (
    Anchor,
    Duration,
    EndAction,
    RetentionRule,
    personal,
)
from mutualis.privacy.registry import declare, declare_not_personal

declare_not_personal("contracts.Offer")
declare_not_personal("contracts.PremiumRate")
declare_not_personal("contracts.Guarantee")
declare_not_personal("contracts.CguVersion")

_CONTRACT = [c.CONTRACT]

declare(
    "contracts.Contract",
    fields={
        "number": personal(c.CONTRACT_DATA, _CONTRACT, provided=False),
        "offer": personal(c.CONTRACT_DATA, _CONTRACT, provided=True),
        "beneficiaries": personal(c.CONTRACT_DATA, _CONTRACT, provided=True),
        "start_date": personal(c.CONTRACT_DATA, _CONTRACT, provided=True),
        "end_date": personal(c.CONTRACT_DATA, _CONTRACT, provided=False),
        "cgu_version": personal(c.CONTRACT_DATA, _CONTRACT, provided=True),
        "policy_version": personal(c.CONTRACT_DATA, _CONTRACT, provided=True),
        "accepted_at": personal(c.CONTRACT_DATA, _CONTRACT, provided=True),
    },
    not_personal=["id", "member", "archived_at"],
    purpose=c.CONTRACT,
    retention_anchor="end_date",
    subject_field="member__person",
)

# An online subscription not yet confirmed: everything typed so far, as encrypted JSON under the
# draft's own data key. Kept one day at most, then deleted and its key shredded (by the handler:
# a plain delete would leave the key).
declare(
    "contracts.SubscriptionDraft",
    fields={
        "payload": personal(c.CONTRACT_DATA, _CONTRACT, provided=True, encrypted=True),
    },
    not_personal=["id", "data_key", "current_step", "created_at", "expires_at"],
    purpose=c.CONTRACT,
    retention_anchor="created_at",
    retention=RetentionRule(
        anchor=Anchor.COLLECTION,
        active=Duration(days=DRAFT_LIFETIME.days),
        archive=Duration(),
        end_action=EndAction.DELETE,
        source="RGPD art. 5(1)(c) et (e) (minimisation) : une adhésion en ligne non confirmée "
        "est effacée au bout d'un jour",
    ),
    retention_handler="mutualis.contracts.drafts.purge_for_retention",
)

# Acceptances of the terms of use, and the notices of a new policy: part of the contract's file
# (category "contrat": the versions of the terms accepted), kept with the member.
declare(
    "contracts.TermsAcceptance",
    fields={
        "version": personal(c.CONTRACT_DATA, _CONTRACT, provided=True),
        "accepted_at": personal(c.CONTRACT_DATA, _CONTRACT, provided=True),
        "channel": personal(c.CONTRACT_DATA, _CONTRACT, provided=False),
    },
    not_personal=["member"],
    purpose=c.CONTRACT,
    subject_field="member__person",
)
declare(
    "contracts.PolicyNotice",
    fields={
        "version": personal(c.CONTRACT_DATA, _CONTRACT, provided=False),
        "emailed_at": personal(c.CONTRACT_DATA, _CONTRACT, provided=False),
        "seen_at": personal(c.CONTRACT_DATA, _CONTRACT, provided=False),
    },
    not_personal=["member"],
    purpose=c.CONTRACT,
    subject_field="member__person",
)
