from mutualis.privacy import catalogue as c
from mutualis.privacy.declaration import personal
from mutualis.privacy.registry import declare, declare_not_personal

declare_not_personal("contracts.Offer")
declare_not_personal("contracts.PremiumRate")

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
    not_personal=["id", "member"],
    purpose=c.CONTRACT,
    retention_anchor="end_date",
    subject_field="member__person",
)
