"""This mutuelle's purposes, data categories and recipients.

Each duration names its legal source beside it.
Where no primary text was read the source says "non confirmé" and the duration stays a plain
value here, so the DPO can change it in one place.
"""

from __future__ import annotations

from django.conf import settings

from mutualis.privacy.declaration import (
    Anchor,
    Category,
    Cookie,
    CookieKind,
    DataSubjectGroup,
    Duration,
    EndAction,
    InternalService,
    LegalBasis,
    Purpose,
    Recipient,
    RecipientKind,
    RetentionRule,
)

# --- Categories of data (policy section 1) ---------------------------------------------------
IDENTITY = Category("identity", "Identité", "civilité, nom, prénoms, date de naissance")
CONTACT = Category(
    "contact", "Coordonnées", "adresse postale, adresse électronique, téléphones fixe et mobile"
)
ADMINISTRATIVE = Category(
    "administrative",
    "Données administratives",
    "numéro de sécurité sociale (NIR), régime d'assurance maladie, organisme de régime obligatoire",
    sensitive=True,
)
BANK = Category(
    "bank", "Moyens de paiement", "relevé d'identité bancaire (IBAN, BIC), mandat SEPA", True
)
PAYMENT_TERMS = Category(
    "payment_terms", "Modalités de paiement", "paiement mensualisé, soldes et impayés"
)
CONTRACT_DATA = Category(
    "contract",
    "Contrat",
    "formule choisie, bénéficiaires, dates, versions des conditions acceptées",
)
CORRESPONDENCE = Category(
    "correspondence",
    "Correspondance",
    "vos questions et nos échanges, quelle que soit leur forme (papier, électronique, téléphone)",
)
PREFERENCES = Category(
    "preferences",
    "Préférences de contact",
    "canaux de communication choisis (courriel, courrier), accords et retraits avec leurs "
    "justificatifs, communications reçues",
)
TECHNICAL = Category(
    "technical",
    "Données techniques",
    "adresse IP (réseau d'origine tronqué et empreinte chiffrée, dans le seul journal de "
    "sécurité), durée des sessions de connexion, journaux de connexion et d'activité",
)
AUDIENCE = Category(
    "audience",
    "Mesure d'audience",
    "navigateur utilisé, durée des visites, pages visitées, fréquence de retour, rattachés à un "
    "identifiant aléatoire de votre navigateur et jamais à votre identité ni à votre adresse IP",
)
COMPLAINT = Category(
    "complaint", "Réclamations", "objet de la réclamation, échanges, issue et voies de recours"
)
RIGHTS_REQUEST = Category(
    "rights_request",
    "Demandes d'exercice de droits",
    "nature de la demande, vérification d'identité, réponse apportée",
)
ACCOUNT = Category(
    "account", "Compte de l'espace adhérent", "identifiant de connexion, historique de connexion"
)

ALL_CATEGORIES = (
    IDENTITY,
    CONTACT,
    ADMINISTRATIVE,
    BANK,
    PAYMENT_TERMS,
    CONTRACT_DATA,
    CORRESPONDENCE,
    PREFERENCES,
    TECHNICAL,
    COMPLAINT,
    RIGHTS_REQUEST,
    ACCOUNT,
    AUDIENCE,
)

# --- Categories of data subjects -------------------------------------------------------------
MEMBERS = DataSubjectGroup("members", "adhérents")
BENEFICIARIES = DataSubjectGroup("beneficiaries", "bénéficiaires (ayants droit)")
PROSPECTS = DataSubjectGroup("prospects", "prospects")
FORMER_MEMBERS = DataSubjectGroup("former_members", "anciens adhérents")
VISITORS = DataSubjectGroup("visitors", "visiteurs du site internet")
CORRESPONDENTS = DataSubjectGroup(
    "correspondents", "toute personne qui écrit à la mutuelle (dont héritiers et tiers)"
)
STAFF = DataSubjectGroup("staff", "personnels de la mutuelle")
ALL_DATA_SUBJECT_GROUPS = (
    MEMBERS,
    BENEFICIARIES,
    PROSPECTS,
    FORMER_MEMBERS,
    VISITORS,
    CORRESPONDENTS,
    STAFF,
)

# --- Recipients (policy section 3) -----------------------------------------------------------
INTERNAL_SERVICES = Recipient(
    "internal",
    "Services internes de la mutuelle",
    RecipientKind.INTERNAL,
    frozenset(ALL_CATEGORIES),
    "gestion, cotisations, relation adhérent, réclamations, communication, délégué à la "
    "protection des données, chacun pour les seules catégories nécessaires à sa mission",
)
MANDATORY_SCHEMES = Recipient(
    "mandatory_schemes",
    "Régimes obligatoires d'assurance maladie",
    RecipientKind.MANDATORY_SCHEME,
    frozenset({IDENTITY, ADMINISTRATIVE, CONTRACT_DATA}),
    "échanges de remboursements (télétransmission)",
)
HEALTH_PROFESSIONALS = Recipient(
    "health_professionals",
    "Professionnels de santé",
    RecipientKind.HEALTH_PROFESSIONAL,
    frozenset({IDENTITY, CONTRACT_DATA}),
    "pharmaciens, centres de santé, hôpitaux, cliniques, opticiens : vérification des droits "
    "au tiers payant (identité et statut de la couverture seulement)",
)
AUTHORITIES = Recipient(
    "authorities",
    "Autorités administratives ou judiciaires",
    RecipientKind.AUTHORITY,
    frozenset(ALL_CATEGORIES),
    "sur demande et seulement si la réglementation en vigueur l'exige",
)
# A processor (GDPR art. 28): prints and posts the letters of a campaign sent by post.
PRINTER = Recipient(
    "printer",
    "Prestataire d'impression et de routage du courrier",
    RecipientKind.PROCESSOR,
    frozenset({IDENTITY, CONTACT}),
    "sous-traitant lié par contrat, qui reçoit pour chaque envoi par courrier les seuls "
    "civilité, nom, prénoms et adresse postale des destinataires, et les détruit après l'envoi",
)
# A processor (GDPR art. 28): the bank that keeps the mutuelle's account presents each
# month's direct debits (pain.008 file) to the members' banks.
SEPA_BANK = Recipient(
    "sepa_bank",
    "Banque de la mutuelle (prélèvements SEPA)",
    RecipientKind.PROCESSOR,
    frozenset({IDENTITY, BANK, PAYMENT_TERMS}),
    "sous-traitant lié par contrat, teneur du compte de la mutuelle, qui reçoit pour chaque "
    "prélèvement le nom du titulaire du compte, son IBAN, la référence du mandat, le montant et "
    "la date, et qui transmet les rejets et les remboursements",
)
ALL_RECIPIENTS = (
    INTERNAL_SERVICES,
    MANDATORY_SCHEMES,
    HEALTH_PROFESSIONALS,
    AUTHORITIES,
    PRINTER,
    SEPA_BANK,
)

# --- Internal services (policy section 3): staff roles and the categories each may see --------
SERVICE_GESTION = InternalService(
    "gestion",
    "Gestion",
    frozenset({IDENTITY, CONTACT, ADMINISTRATIVE, CONTRACT_DATA, CORRESPONDENCE}),
    "adhésions, contrats, bénéficiaires, échanges avec les régimes obligatoires",
)
SERVICE_COTISATIONS = InternalService(
    "cotisations",
    "Cotisations",
    frozenset({IDENTITY, CONTACT, BANK, PAYMENT_TERMS, CONTRACT_DATA}),
    "cotisations, mandats SEPA, prélèvements et impayés",
)
SERVICE_RELATION = InternalService(
    "relation_adherent",
    "Relation adhérent",
    frozenset({IDENTITY, CONTACT, CORRESPONDENCE, CONTRACT_DATA, PREFERENCES}),
    "questions des adhérents et des prospects, tous canaux",
)
SERVICE_RECLAMATIONS = InternalService(
    "reclamations",
    "Réclamations",
    frozenset({IDENTITY, CONTACT, CORRESPONDENCE, COMPLAINT, CONTRACT_DATA}),
    "traitement des réclamations et registre ACPR",
)
SERVICE_DPO = InternalService(
    "dpo",
    "Délégué à la protection des données",
    frozenset(ALL_CATEGORIES),
    "demandes d'exercice de droits, registre, conservation, audit",
)
SERVICE_COMMUNICATION = InternalService(
    "communication",
    "Communication",
    frozenset({IDENTITY, CONTACT, PREFERENCES, AUDIENCE}),
    "lettres d'information et campagnes, adressées aux seules personnes qui les ont choisies ; "
    "mesure d'audience du site",
)
SERVICE_ADMIN = InternalService(
    "admin",
    "Administration",
    frozenset({ACCOUNT}),
    "comptes des personnels et rôles",
)
ALL_SERVICES = (
    SERVICE_GESTION,
    SERVICE_COTISATIONS,
    SERVICE_RELATION,
    SERVICE_RECLAMATIONS,
    SERVICE_COMMUNICATION,
    SERVICE_DPO,
    SERVICE_ADMIN,
)

# --- Security measures (policy section 4), shared by every purpose ---------------------------
SECURITY_MEASURES = (
    "chiffrement AES-256-GCM des données sensibles (NIR, IBAN) sous une clé propre à chaque "
    "personne, elle-même protégée par une clé maîtresse conservée hors de la base",
    "effacement cryptographique : la destruction de la clé d'une personne rend ses données "
    "chiffrées illisibles partout, sauvegardes comprises",
    "accès des personnels limité par service et par catégorie de données, double authentification",
    "journal d'audit chaîné (SHA-256) de chaque écriture et de chaque consultation sensible",
    "verrouillage des comptes après des échecs de connexion répétés",
    "connexions chiffrées (HTTPS), en-têtes de sécurité et politique de sécurité du contenu "
    "stricte",
)

# --- Retention rules (each with its source) --------------------------------------------------
RETENTION_INQUIRIES = RetentionRule(
    anchor=Anchor.LAST_CONTACT,
    active=Duration.years(3),
    archive=Duration(),
    end_action=EndAction.DELETE,
    source="CNIL, durées de conservation du secteur de l'assurance ; ancienne norme NS-16 art. 4",
)
# Backups of the database (``manage.py backup``) are kept four weeks, then pruned
# (``manage.py prune_backups``): whatever a backup holds outlives the database by that much.
RETENTION_BACKUPS = Duration(days=28)
# E-mails received: the policy promises three months at most (section II), every copy included.
# Their body and attachments leave the database two months after receipt, so that with backups
# of at most four weeks no copy is left after three months (promise T1 checks the sum); a
# content-free trace (date, channel, thread) stays.
INBOUND_EMAIL_PROMISE = Duration(months=3)
RETENTION_INBOUND_EMAIL = RetentionRule(
    anchor=Anchor.RECEIPT,
    active=Duration(months=2),
    archive=Duration(),
    end_action=EndAction.ANONYMISE,
    source="engagement de la politique de confidentialité (section II) : 3 mois au plus, "
    "sauvegardes de 4 semaines comprises",
)
RETENTION_INBOUND_EMAIL_FILES = RetentionRule(
    anchor=Anchor.RECEIPT,
    active=Duration(months=2),
    archive=Duration(),
    end_action=EndAction.DELETE,
    source="engagement de la politique de confidentialité (section II) : 3 mois au plus, "
    "sauvegardes de 4 semaines comprises",
)
RETENTION_CONTRACT = RetentionRule(
    anchor=Anchor.CONTRACT_END,
    active=Duration(),
    archive=Duration.years(5),
    end_action=EndAction.DELETE,
    source="C. mutualité L221-11 (prescription biennale) ; C. civil art. 2224 (5 ans)",
    active_label="pendant toute la durée du contrat",
)
RETENTION_COMMUNICATION = RetentionRule(
    anchor=Anchor.LAST_CONTACT,
    active=Duration.years(3),
    archive=Duration(),
    end_action=EndAction.DELETE,
    source="CNIL (prospection) : jusqu'au retrait du consentement ; prospects 3 ans",
    active_label="jusqu'au retrait de votre accord, et au plus 3 ans après le dernier contact "
    "pour les prospects",
)
RETENTION_WEBSITE = RetentionRule(
    anchor=Anchor.COLLECTION,
    active=Duration(months=6),
    archive=Duration(),
    end_action=EndAction.DELETE,
    source="CNIL, recommandation sur la journalisation (6 mois à 1 an)",
)
# The proof that a campaign reached a person who had agreed to it (GDPR art. 7(1)), kept like
# a prospect's data.
RETENTION_CAMPAIGN_LOG = RetentionRule(
    anchor=Anchor.SENDING,
    active=Duration.years(3),
    archive=Duration(),
    end_action=EndAction.DELETE,
    source="CNIL (prospection) : preuve de l'envoi et du consentement, 3 ans",
)
# First-party audience statistics exempt from consent: raw events 25 months at most, then only
# anonymous aggregates remain (the visitor cookie itself lives 13 months at most).
AUDIENCE_COOKIE_MONTHS = 13
AUDIENCE_EVENTS_MONTHS = 25
RETENTION_AUDIENCE = RetentionRule(
    anchor=Anchor.COLLECTION,
    active=Duration(months=AUDIENCE_EVENTS_MONTHS),
    archive=Duration(),
    end_action=EndAction.AGGREGATE,
    source="CNIL, délibération 2020-091 et lignes directrices sur la mesure d'audience : "
    "traceur 13 mois au plus, non prolongé ; données collectées 25 mois au plus",
)
# Login sessions: the row goes within a day of the session's end (`clearsessions` deletes every
# expired session daily at 03:00, deploy/mutualis-clear-sessions.timer; the retention engine
# deletes those a day past their end nightly).
RETENTION_SESSIONS = RetentionRule(
    anchor=Anchor.EXPIRY,
    active=Duration(days=1),
    archive=Duration(),
    end_action=EndAction.DELETE,
    source="fonctionnement du site : la session n'est conservée que tant qu'elle est ouverte",
    active_label="jusqu'à la fin de la session (déconnexion ou inactivité), puis 24 heures au plus",
)
# The rate-limit counters of the public forms and of the audience endpoint, in Django's database
# cache (MUTUALIS_CACHE=db): a keyed hash of a client's address or of an e-mail address, with the
# times of its recent attempts. Each entry lives for its window (an hour by default); the retention
# engine deletes every expired one nightly, so none outlives its window by more than a day.
RETENTION_RATE_LIMITS = RetentionRule(
    anchor=Anchor.EXPIRY,
    active=Duration(days=1),
    archive=Duration(),
    end_action=EndAction.DELETE,
    source="sécurité des formulaires : compteurs de la fenêtre de limitation du nombre d'envois",
    active_label="le temps de la fenêtre de limitation, puis 24 heures au plus",
)
# A second factor begun and never confirmed: one week.
RETENTION_PENDING_DEVICE = RetentionRule(
    anchor=Anchor.COLLECTION,
    active=Duration(days=7),
    archive=Duration(),
    end_action=EndAction.DELETE,
    source="sécurité des accès : un second facteur non confirmé n'est pas gardé",
)
RETENTION_COMPLAINTS = RetentionRule(
    anchor=Anchor.CLOSURE,
    active=Duration(),
    archive=Duration.years(5),
    end_action=EndAction.DELETE,
    source="C. civil art. 2224 (non confirmé, paramétrable)",
    active_label="jusqu'à la clôture de la réclamation",
)
RETENTION_RIGHTS = RetentionRule(
    anchor=Anchor.CLOSURE,
    active=Duration(),
    archive=Duration.years(5),
    end_action=EndAction.DELETE,
    source="non confirmé, paramétrable ; pièces d'identité supprimées dès la vérification faite",
    active_label="jusqu'à la clôture de la demande",
)
RETENTION_ACCOUNTING = RetentionRule(
    anchor=Anchor.FINANCIAL_YEAR_END,
    active=Duration(),
    archive=Duration.years(10),
    end_action=EndAction.DELETE,
    source="C. commerce L123-22 (non confirmé pour les mutuelles, paramétrable) ; "
    "mandat SEPA : 13 mois après le dernier prélèvement (CMF L133-24)",
    active_label="pendant l'exercice comptable",
)
RETENTION_MANDATE = RetentionRule(
    anchor=Anchor.LAST_DEBIT,
    active=Duration(),
    archive=Duration(months=13),
    end_action=EndAction.DELETE,
    source="règlement SEPA (caducité après 36 mois sans prélèvement) ; CMF L133-24 "
    "(contestation pendant 13 mois)",
    active_label="pendant la vie du mandat",
)
RETENTION_TECHNICAL_LOGS = RetentionRule(
    anchor=Anchor.COLLECTION,
    active=Duration(months=6),
    archive=Duration(),
    end_action=EndAction.DELETE,
    source="CNIL, recommandation sur la journalisation (6 mois à 1 an) : journaux techniques "
    "(adresses IP, connexions) 6 mois",
)
RETENTION_SECURITY = RetentionRule(
    anchor=Anchor.COLLECTION,
    active=Duration(months=6),
    archive=Duration(months=6),
    end_action=EndAction.DELETE,
    source="CNIL, recommandation sur la journalisation (6 mois à 1 an)",
)

# The breach register (GDPR art. 33(5)): until the breach is closed, then 5 years, the time
# for the CNIL to check it and for claims (C. civil art. 2224). Non confirmé, paramétrable.
RETENTION_BREACHES = RetentionRule(
    anchor=Anchor.CLOSURE,
    active=Duration(),
    archive=Duration.years(5),
    end_action=EndAction.DELETE,
    source="RGPD art. 33(5) ; C. civil art. 2224 (non confirmé, paramétrable)",
    active_label="jusqu'à la clôture de la violation",
)

# Staff accounts: while the person works here; after their departure (deactivation), kept
# 6 months — as long as the technical logs that name them — then anonymised. Non confirmé,
# paramétrable: the DPO sets the duration here.
RETENTION_STAFF_ACCOUNTS = RetentionRule(
    anchor=Anchor.DEPARTURE,
    active=Duration(months=6),
    archive=Duration(),
    end_action=EndAction.ANONYMISE,
    source="CNIL, recommandation sur la journalisation (6 mois à 1 an) ; non confirmé, "
    "paramétrable",
)

# --- Purposes (policy section 1, plus the processing the policy implies) ---------------------
INQUIRIES = Purpose(
    code="inquiries",
    title="Répondre à vos questions",
    description=(
        "Lorsque vous nous contactez pour demander des renseignements, par téléphone, par "
        "courriel, par courrier, depuis votre espace adhérent ou par les formulaires du site, "
        "nous traitons les données que vous nous communiquez pour vous répondre au mieux."
    ),
    policy_section="1-A",
    legal_basis=LegalBasis.LEGITIMATE_INTEREST,
    legal_basis_detail="répondre aux personnes qui sollicitent la mutuelle ; pour un adhérent, "
    "l'exécution de son contrat",
    categories=frozenset({IDENTITY, CONTACT, CORRESPONDENCE}),
    data_subjects=frozenset({PROSPECTS, MEMBERS, CORRESPONDENTS}),
    retention=RETENTION_INQUIRIES,
    recipients=(INTERNAL_SERVICES,),
    security_measures=SECURITY_MEASURES,
)
CONTRACT = Purpose(
    code="contract",
    title="Conclure et exécuter votre contrat de complémentaire santé",
    description=(
        "Lorsque vous souscrivez un contrat frais de santé complémentaire, nous vous demandons "
        "les informations nécessaires à sa conclusion et à son exécution : adhésion, gestion des "
        "bénéficiaires, cotisations et prélèvements, remboursements, échanges avec les régimes "
        "obligatoires et les professionnels de santé."
    ),
    policy_section="1-B",
    legal_basis=LegalBasis.CONTRACT,
    legal_basis_detail="contrat de complémentaire santé (C. mutualité)",
    categories=frozenset(
        {IDENTITY, CONTACT, ADMINISTRATIVE, BANK, PAYMENT_TERMS, CONTRACT_DATA, CORRESPONDENCE}
    ),
    data_subjects=frozenset({MEMBERS, BENEFICIARIES, FORMER_MEMBERS}),
    retention=RETENTION_CONTRACT,
    recipients=(
        INTERNAL_SERVICES,
        MANDATORY_SCHEMES,
        HEALTH_PROFESSIONALS,
        SEPA_BANK,
        AUTHORITIES,
    ),
    security_measures=SECURITY_MEASURES,
)
COMMUNICATION = Purpose(
    code="communication",
    title="Vous adresser nos communications",
    description=(
        "Vous choisissez à tout moment les communications que vous souhaitez recevoir, "
        "notamment depuis votre espace adhérent."
    ),
    policy_section="1-C",
    legal_basis=LegalBasis.CONSENT,
    legal_basis_detail="votre accord, que vous pouvez retirer à tout moment",
    categories=frozenset({IDENTITY, CONTACT, PREFERENCES}),
    data_subjects=frozenset({MEMBERS, PROSPECTS}),
    retention=RETENTION_COMMUNICATION,
    recipients=(INTERNAL_SERVICES, PRINTER),
    security_measures=SECURITY_MEASURES,
)
WEBSITE = Purpose(
    code="website",
    title="Faire fonctionner nos sites internet et applications",
    description=(
        "Lorsque vous naviguez sur nos sites ou applications, nous traitons les données que "
        "vous y saisissez, celles générées par les fonctions que vous utilisez et des données "
        "techniques issues de votre appareil. La durée de vos sessions de connexion est "
        "mesurée à leur fin (déconnexion ou inactivité) et inscrite au journal de sécurité. "
        "Votre adresse IP n'est jamais conservée en clair. Elle figure au journal de sécurité "
        "lors d'une connexion, d'un refus d'accès ou d'une action sensible d'un personnel, sous "
        "la forme du réseau d'origine (adresse tronquée) et d'une empreinte chiffrée, 6 mois au "
        "plus ; et, pour limiter le nombre d'envois des formulaires du site et des mesures "
        "d'audience, son empreinte chiffrée est gardée le temps de la fenêtre de limitation, "
        "puis effacée dans les 24 heures qui suivent. La session elle-même est supprimée dans "
        "les 24 heures qui suivent sa fin."
    ),
    policy_section="1-D",
    legal_basis=LegalBasis.LEGITIMATE_INTEREST,
    legal_basis_detail="assurer le fonctionnement et la sécurité du site",
    categories=frozenset({TECHNICAL, ACCOUNT}),
    data_subjects=frozenset({VISITORS, MEMBERS, PROSPECTS, STAFF}),
    retention=RETENTION_WEBSITE,
    recipients=(INTERNAL_SERVICES,),
    security_measures=SECURITY_MEASURES,
)
COMPLAINTS = Purpose(
    code="complaints",
    title="Traiter vos réclamations",
    description=(
        "Toute expression de mécontentement, par tout moyen, est enregistrée, accusée de "
        "réception et traitée dans les délais fixés par l'ACPR, puis inscrite au registre des "
        "réclamations."
    ),
    policy_section="1-A, 7",
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    legal_basis_detail="recommandation ACPR 2022-R-01 sur le traitement des réclamations",
    categories=frozenset({IDENTITY, CONTACT, CORRESPONDENCE, COMPLAINT, CONTRACT_DATA}),
    data_subjects=frozenset({MEMBERS, FORMER_MEMBERS, PROSPECTS, CORRESPONDENTS}),
    retention=RETENTION_COMPLAINTS,
    recipients=(INTERNAL_SERVICES, AUTHORITIES),
    security_measures=SECURITY_MEASURES,
)
RIGHTS = Purpose(
    code="rights",
    title="Répondre à vos demandes d'exercice de droits",
    description=(
        "Lorsque vous exercez vos droits (accès, rectification, effacement, opposition, "
        "portabilité, limitation, directives post mortem), nous traitons votre demande, "
        "vérifions votre identité et conservons la preuve de notre réponse."
    ),
    policy_section="5, 6",
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    legal_basis_detail="RGPD art. 12 à 22 ; loi 78-17 art. 84 et 85",
    categories=frozenset({IDENTITY, CONTACT, RIGHTS_REQUEST, CORRESPONDENCE}),
    data_subjects=frozenset({MEMBERS, BENEFICIARIES, FORMER_MEMBERS, PROSPECTS, CORRESPONDENTS}),
    retention=RETENTION_RIGHTS,
    recipients=(INTERNAL_SERVICES, AUTHORITIES),
    security_measures=SECURITY_MEASURES,
)
LEGAL_OBLIGATIONS = Purpose(
    code="legal_obligations",
    title="Respecter nos obligations légales, comptables et fiscales",
    description=(
        "Tenue de la comptabilité des cotisations et des paiements, réponse aux réquisitions "
        "des autorités et conservation des pièces exigées par la loi."
    ),
    policy_section="2, 3",
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    legal_basis_detail="C. commerce L123-22 ; C. monétaire et financier L133-24",
    categories=frozenset({IDENTITY, BANK, PAYMENT_TERMS, CONTRACT_DATA}),
    data_subjects=frozenset({MEMBERS, FORMER_MEMBERS}),
    retention=RETENTION_ACCOUNTING,
    recipients=(INTERNAL_SERVICES, AUTHORITIES),
    security_measures=SECURITY_MEASURES,
)
SECURITY_LOGGING = Purpose(
    code="security_logging",
    title="Assurer la sécurité des données et la traçabilité des accès",
    description=(
        "Chaque écriture de données personnelles, chaque consultation sensible et chaque "
        "communication à un destinataire est inscrite dans un journal infalsifiable, qui "
        "désigne les personnes par un identifiant technique et jamais en clair. Les connexions, "
        "les échecs de connexion, les verrouillages de compte et les actions de sécurité des "
        "personnels sont inscrits au journal de sécurité, avec le réseau d'origine (adresse IP "
        "tronquée) et une empreinte chiffrée de l'adresse, 6 mois au plus."
    ),
    policy_section="4",
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    legal_basis_detail="RGPD art. 5(1)(f) et art. 32 (sécurité du traitement)",
    categories=frozenset({TECHNICAL}),
    data_subjects=frozenset({MEMBERS, BENEFICIARIES, PROSPECTS, STAFF, VISITORS}),
    retention=RETENTION_SECURITY,
    recipients=(INTERNAL_SERVICES, AUTHORITIES),
    security_measures=SECURITY_MEASURES,
)

AUDIENCE_STATISTICS = Purpose(
    code="audience",
    title="Mesurer l'audience de nos sites",
    description=(
        "Le site mesure lui-même sa fréquentation, sans aucun outil ni script d'un tiers : "
        "navigateur utilisé, durée des visites, pages visitées et fréquence de retour. Ces "
        "mesures sont rattachées à un identifiant aléatoire conservé dans un cookie de votre "
        "navigateur, valable 13 mois au plus à compter de votre première visite et jamais "
        "prolongé ; elles ne sont jamais rattachées à votre identité, à votre compte ni à votre "
        "adresse IP, qui n'est pas enregistrée avec elles (seule une empreinte chiffrée en est "
        "gardée une minute, pour limiter le nombre de mesures qu'un même appareil peut envoyer). "
        "Les données brutes sont conservées 25 mois au "
        "plus, puis seules subsistent des statistiques agrégées et anonymes. Elles servent à la "
        "seule mutuelle, ne sont croisées avec aucune autre donnée ni transmises à quiconque. "
        "Vous pouvez vous y opposer à tout moment depuis la page « Cookies » du site : votre "
        "choix est appliqué immédiatement."
    ),
    policy_section="II",
    legal_basis=LegalBasis.LEGITIMATE_INTEREST,
    legal_basis_detail="mesure d'audience exemptée de consentement (loi 78-17 art. 82 ; CNIL, "
    "délibération 2020-091), à laquelle vous pouvez vous opposer",
    categories=frozenset({AUDIENCE}),
    data_subjects=frozenset({VISITORS, MEMBERS, PROSPECTS}),
    retention=RETENTION_AUDIENCE,
    recipients=(INTERNAL_SERVICES,),
    security_measures=SECURITY_MEASURES,
)

ALL_PURPOSES = (
    INQUIRIES,
    CONTRACT,
    COMMUNICATION,
    WEBSITE,
    AUDIENCE_STATISTICS,
    COMPLAINTS,
    RIGHTS,
    LEGAL_OBLIGATIONS,
    SECURITY_LOGGING,
)


# --- Cookies (policy section II) -------------------------------------------------------------
# The audience cookie and the one that remembers a visitor's refusal of it. Their names are
# fixed here; the audience app reads them from this module.
AUDIENCE_COOKIE = "mutualis_audience"
AUDIENCE_REFUSAL_COOKIE = "mutualis_audience_refus"
_MONTH_SECONDS = 31 * 24 * 3600  # the longest month: a cookie of N months never exceeds this


def declared_cookies() -> tuple[Cookie, ...]:
    """Every cookie the site may set, with why and for how long (settings read at call time)."""
    minutes = settings.SESSION_COOKIE_AGE // 60
    return (
        Cookie(
            name=settings.SESSION_COOKIE_NAME,
            kind=CookieKind.NECESSARY,
            purpose="maintenir votre connexion à l'espace adhérent et le déroulement des "
            "formulaires (adhésion en ligne)",
            lifetime=f"jusqu'à la fermeture du navigateur, et au plus {minutes} minutes "
            "d'inactivité",
            max_age=None,
            serves=WEBSITE,
        ),
        Cookie(
            name=settings.CSRF_COOKIE_NAME,
            kind=CookieKind.NECESSARY,
            purpose="protéger les formulaires contre la falsification de requêtes",
            lifetime="jusqu'à la fermeture du navigateur",
            max_age=None,
            serves=WEBSITE,
        ),
        Cookie(
            name=AUDIENCE_COOKIE,
            kind=CookieKind.AUDIENCE,
            purpose="mesurer l'audience du site (identifiant aléatoire, sans lien avec votre "
            "identité)",
            lifetime=f"{AUDIENCE_COOKIE_MONTHS} mois au plus à compter de votre première "
            "visite, jamais prolongé",
            max_age=AUDIENCE_COOKIE_MONTHS * _MONTH_SECONDS,
            serves=AUDIENCE_STATISTICS,
        ),
        Cookie(
            name=AUDIENCE_REFUSAL_COOKIE,
            kind=CookieKind.CHOICE,
            purpose="retenir que vous refusez la mesure d'audience",
            lifetime=f"{AUDIENCE_COOKIE_MONTHS} mois",
            max_age=AUDIENCE_COOKIE_MONTHS * _MONTH_SECONDS,
            serves=AUDIENCE_STATISTICS,
        ),
    )
