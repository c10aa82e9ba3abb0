from mutualis.members.roles import Permission
from mutualis.members.tags import MembersTag
from mutualis.privacy import catalogue as c
from mutualis.privacy import restrictions
from mutualis.privacy.declaration import personal
from mutualis.privacy.registry import declare

_CONTRACT = [c.CONTRACT]
_CONTACTING = [c.CONTRACT, c.COMMUNICATION, c.INQUIRIES]

declare(
    "members.Person",
    fields={
        "civility": personal(c.IDENTITY, [c.CONTRACT, c.COMMUNICATION], provided=True),
        "last_name": personal(c.IDENTITY, _CONTACTING, provided=True),
        "first_names": personal(c.IDENTITY, _CONTACTING, provided=True),
        "birth_date": personal(
            c.IDENTITY, [c.CONTRACT, c.COMMUNICATION], provided=True, encrypted=True
        ),
        "address_line1": personal(c.CONTACT, _CONTACTING, provided=True),
        "address_line2": personal(c.CONTACT, _CONTACTING, provided=True),
        "postal_code": personal(c.CONTACT, _CONTACTING, provided=True),
        "city": personal(c.CONTACT, _CONTACTING, provided=True),
        "email": personal(c.CONTACT, _CONTACTING, provided=True),
        "phone_landline": personal(c.CONTACT, _CONTACTING, provided=True),
        "phone_mobile": personal(c.CONTACT, _CONTACTING, provided=True),
        "nir": personal(c.ADMINISTRATIVE, _CONTRACT, provided=True, encrypted=True),
        "nir_index": personal(c.ADMINISTRATIVE, _CONTRACT, provided=False),
        "nir_holder": personal(c.ADMINISTRATIVE, _CONTRACT, provided=True),
        "scheme_regime": personal(c.ADMINISTRATIVE, _CONTRACT, provided=True),
        "scheme_caisse": personal(c.ADMINISTRATIVE, _CONTRACT, provided=True),
        "scheme_centre": personal(c.ADMINISTRATIVE, _CONTRACT, provided=True),
        "scheme_organisation": personal(c.ADMINISTRATIVE, _CONTRACT, provided=True),
    },
    not_personal=["id", "data_key", "created_at", "updated_at"],
    purpose=c.CONTRACT,
    subject_field="id",
    # A person goes once no member, beneficiary, inquiry or attached child refers to them; their
    # data key is shredded first (crypto-shredding reaches backups).
    sweep_unreferenced=True,
    person_key_field="data_key",
)

declare(
    "members.Member",
    fields={
        "number": personal(c.CONTRACT_DATA, _CONTRACT, provided=False),
        "joined_at": personal(c.CONTRACT_DATA, _CONTRACT, provided=False),
        "account": personal(c.CONTRACT_DATA, _CONTRACT, provided=False),
        "legacy_reference": personal(c.CONTRACT_DATA, _CONTRACT, provided=False),
    },
    not_personal=["id", "person"],
    purpose=c.CONTRACT,
    subject_field="person",
    # A member goes once their contracts and mandates have reached the end of their retention.
    sweep_unreferenced=True,
)

declare(
    "members.Beneficiary",
    fields={
        "role": personal(c.CONTRACT_DATA, _CONTRACT, provided=True),
        "added_at": personal(c.CONTRACT_DATA, _CONTRACT, provided=False),
    },
    not_personal=["id", "member", "person"],
    purpose=c.CONTRACT,
    subject_field="person",
)

declare(
    "members.User",
    fields={
        "email": personal(c.ACCOUNT, [c.WEBSITE], provided=True),
        "display_name": personal(c.ACCOUNT, [c.WEBSITE], provided=True),
        "last_login": personal(c.ACCOUNT, [c.WEBSITE], provided=False),
        "date_joined": personal(c.ACCOUNT, [c.WEBSITE], provided=False),
        "password": personal(c.ACCOUNT, [c.WEBSITE], provided=True),
    },
    not_personal=["kind", "role", "is_active"],
    purpose=c.WEBSITE,
    # A member's account belongs to the member's person (access export, legal holds); a staff
    # account has no member and so no subject.
    subject_field="member__person",
    # A member's account goes with the member; staff accounts are managed by the admin service.
    sweep_unreferenced=True,
    retention_scope={"kind": "member"},
)

# Revealing a NIR uses the person's data beyond storage: the restriction guard stands before it.
restrictions.register_use(MembersTag.NIR_REVEAL, purposes=[c.CONTRACT])
# The DPO's permission is the one that allows an exception to a restriction for legal claims.
restrictions.declare_override_permission(Permission.RIGHTS_DECIDE)
