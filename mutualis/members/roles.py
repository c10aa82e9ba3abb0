"""Staff roles, one per internal service, and their permissions (``scope:resource:action``).

The categories of data a role may see are not listed here: they come from the declaration
(``privacy.catalogue.ALL_SERVICES``), so the policy's "internal services" and the back office's
access rules are one and the same list.
"""

from __future__ import annotations

import enum

from mutualis.audit.tags import validate_tag
from mutualis.privacy import catalogue
from mutualis.privacy.declaration import Category, InternalService


class Permission(enum.StrEnum):
    def __init__(self, value: str) -> None:
        validate_tag(value)  # same scope:resource:action shape as audit tags

    MEMBER_SEARCH = "members:member:search"
    MEMBER_VIEW = "members:member:view"
    NIR_REVEAL = "members:nir:reveal"
    IBAN_REVEAL = "billing:iban:reveal"
    STAFF_VIEW = "members:staff:view"
    STAFF_MANAGE = "members:staff:manage"
    REGISTER_VIEW = "privacy:register:view"
    AUDIT_VIEW = "audit:event:view"
    # Inquiries and complaints (contact).
    INQUIRY_VIEW = "contact:inquiry:view"
    INQUIRY_ANSWER = "contact:inquiry:answer"
    INQUIRY_REGISTER = "contact:inquiry:register"
    COMPLAINT_MANAGE = "contact:complaint:manage"
    # Retention and legal holds (privacy), rights requests (rights).
    RETENTION_VIEW = "privacy:retention:view"
    HOLD_MANAGE = "privacy:hold:manage"
    RIGHTS_VIEW = "rights:request:view"
    RIGHTS_REGISTER = "rights:request:register"
    RIGHTS_DECIDE = "rights:request:decide"
    # Outside recipients (recipients): organisations and their keys, the scheme exchange, the
    # disclosure register, the authorities' requisitions.
    ORGANISATION_VIEW = "recipients:organisation:view"
    ORGANISATION_MANAGE = "recipients:organisation:manage"
    EXCHANGE_MANAGE = "recipients:exchange:manage"
    DISCLOSURE_VIEW = "audit:disclosure:view"
    REQUISITION_REGISTER = "recipients:requisition:register"
    REQUISITION_DECIDE = "recipients:requisition:decide"
    # Communications (consent): campaigns, consent recorded by staff; audience statistics.
    CAMPAIGN_VIEW = "consent:campaign:view"
    CAMPAIGN_MANAGE = "consent:campaign:manage"
    CAMPAIGN_SEND = "consent:campaign:send"
    CONSENT_RECORD = "consent:consent:record"
    STATISTICS_VIEW = "audience:statistics:view"
    # The breach register (GDPR art. 33-34).
    BREACH_MANAGE = "privacy:breach:manage"
    # Premiums (billing): members' accounts, debit batches, bank returns, unpaid premiums.
    BILLING_VIEW = "billing:ledger:view"
    BILLING_MANAGE = "billing:payment:record"
    # Contracts: the people a contract covers (its premium follows).
    CONTRACT_MANAGE = "contracts:contract:manage"


_SERVICES = {service.code: service for service in catalogue.ALL_SERVICES}
ROLE_CHOICES = [(service.code, service.label) for service in catalogue.ALL_SERVICES]

# How each permission reads in French, in the back office.
PERMISSION_LABELS: dict[Permission, str] = {
    Permission.MEMBER_SEARCH: "Rechercher un adhérent",
    Permission.MEMBER_VIEW: "Consulter le dossier d'un adhérent",
    Permission.NIR_REVEAL: "Afficher un numéro de sécurité sociale en clair (consultation "
    "journalisée)",
    Permission.IBAN_REVEAL: "Afficher un IBAN en clair (consultation journalisée)",
    Permission.STAFF_VIEW: "Consulter les comptes des personnels",
    Permission.STAFF_MANAGE: "Gérer les comptes des personnels",
    Permission.REGISTER_VIEW: "Consulter le registre des traitements",
    Permission.AUDIT_VIEW: "Consulter le journal d'audit",
    Permission.INQUIRY_VIEW: "Consulter les demandes de son service",
    Permission.INQUIRY_ANSWER: "Répondre aux demandes",
    Permission.INQUIRY_REGISTER: "Enregistrer un appel, un courrier ou une visite",
    Permission.COMPLAINT_MANAGE: "Qualifier et traiter les réclamations",
    Permission.RETENTION_VIEW: "Suivre les règles de conservation",
    Permission.HOLD_MANAGE: "Poser et lever un gel de conservation",
    Permission.RIGHTS_VIEW: "Suivre les demandes d'exercice de droits",
    Permission.RIGHTS_REGISTER: "Enregistrer une demande d'exercice de droits",
    Permission.RIGHTS_DECIDE: "Statuer sur les demandes d'exercice de droits",
    Permission.ORGANISATION_VIEW: "Consulter les organismes destinataires et leurs clés d'API",
    Permission.ORGANISATION_MANAGE: "Enregistrer les organismes destinataires, créer, renouveler "
    "et révoquer leurs clés d'API",
    Permission.EXCHANGE_MANAGE: "Suivre les échanges avec les régimes obligatoires et traiter "
    "les rejets",
    Permission.DISCLOSURE_VIEW: "Consulter le registre des communications aux destinataires",
    Permission.REQUISITION_REGISTER: "Enregistrer les réquisitions des autorités",
    Permission.REQUISITION_DECIDE: "Statuer sur les réquisitions et produire leur export",
    Permission.CAMPAIGN_VIEW: "Consulter les campagnes et leurs journaux d'envoi",
    Permission.CAMPAIGN_MANAGE: "Préparer les campagnes (rédaction, aperçu, audience)",
    Permission.CAMPAIGN_SEND: "Lancer, suspendre et exporter l'envoi d'une campagne",
    Permission.CONSENT_RECORD: "Enregistrer un accord ou un retrait reçu par téléphone ou courrier",
    Permission.STATISTICS_VIEW: "Consulter la mesure d'audience du site",
    Permission.BREACH_MANAGE: "Tenir le registre des violations de données et les notifier",
    Permission.BILLING_VIEW: "Consulter les comptes cotisations, les remises de prélèvements, les "
    "retours bancaires et les impayés",
    Permission.BILLING_MANAGE: "Enregistrer les paiements, traiter les retours et les impayés "
    "(mise en demeure, échéancier, résiliation), télécharger les remises",
    Permission.CONTRACT_MANAGE: "Ajouter ou retirer un bénéficiaire d'un contrat",
}

_INQUIRIES = {Permission.INQUIRY_VIEW, Permission.INQUIRY_ANSWER, Permission.RIGHTS_REGISTER}

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    catalogue.SERVICE_GESTION.code: frozenset(
        {
            Permission.MEMBER_SEARCH,
            Permission.MEMBER_VIEW,
            Permission.NIR_REVEAL,
            Permission.ORGANISATION_VIEW,
            Permission.ORGANISATION_MANAGE,
            Permission.EXCHANGE_MANAGE,
            Permission.REQUISITION_REGISTER,
            Permission.CONTRACT_MANAGE,
            *_INQUIRIES,
        }
    ),
    catalogue.SERVICE_COTISATIONS.code: frozenset(
        {
            Permission.MEMBER_SEARCH,
            Permission.MEMBER_VIEW,
            Permission.IBAN_REVEAL,
            Permission.BILLING_VIEW,
            Permission.BILLING_MANAGE,
            *_INQUIRIES,
        }
    ),
    catalogue.SERVICE_RELATION.code: frozenset(
        {
            Permission.MEMBER_SEARCH,
            Permission.MEMBER_VIEW,
            Permission.INQUIRY_REGISTER,
            Permission.CONSENT_RECORD,
            *_INQUIRIES,
        }
    ),
    catalogue.SERVICE_RECLAMATIONS.code: frozenset(
        {
            Permission.MEMBER_SEARCH,
            Permission.MEMBER_VIEW,
            Permission.INQUIRY_REGISTER,
            Permission.COMPLAINT_MANAGE,
            *_INQUIRIES,
        }
    ),
    catalogue.SERVICE_DPO.code: frozenset(
        {
            Permission.MEMBER_SEARCH,
            Permission.MEMBER_VIEW,
            Permission.NIR_REVEAL,
            Permission.IBAN_REVEAL,
            Permission.REGISTER_VIEW,
            Permission.AUDIT_VIEW,
            Permission.STAFF_VIEW,
            Permission.RETENTION_VIEW,
            Permission.HOLD_MANAGE,
            Permission.RIGHTS_VIEW,
            Permission.RIGHTS_DECIDE,
            Permission.COMPLAINT_MANAGE,
            Permission.ORGANISATION_VIEW,
            Permission.EXCHANGE_MANAGE,
            Permission.DISCLOSURE_VIEW,
            Permission.REQUISITION_REGISTER,
            Permission.REQUISITION_DECIDE,
            Permission.CAMPAIGN_VIEW,
            Permission.STATISTICS_VIEW,
            Permission.BREACH_MANAGE,
            Permission.BILLING_VIEW,
            *_INQUIRIES,
        }
    ),
    catalogue.SERVICE_COMMUNICATION.code: frozenset(
        {
            Permission.MEMBER_SEARCH,
            Permission.MEMBER_VIEW,
            Permission.CAMPAIGN_VIEW,
            Permission.CAMPAIGN_MANAGE,
            Permission.CAMPAIGN_SEND,
            Permission.CONSENT_RECORD,
            Permission.STATISTICS_VIEW,
        }
    ),
    catalogue.SERVICE_ADMIN.code: frozenset(
        {
            Permission.STAFF_VIEW,
            Permission.STAFF_MANAGE,
            Permission.ORGANISATION_VIEW,
            Permission.ORGANISATION_MANAGE,
        }
    ),
}


def service_for(role: str) -> InternalService | None:
    return _SERVICES.get(role)


def role_has_permission(role: str, perm: str) -> bool:
    return perm in ROLE_PERMISSIONS.get(role, frozenset())


def visible_categories(role: str) -> frozenset[Category]:
    service = service_for(role)
    return service.categories if service else frozenset()
