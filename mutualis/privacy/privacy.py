from mutualis.privacy.registry import declare_not_personal

declare_not_personal("privacy.PolicyVersion")
