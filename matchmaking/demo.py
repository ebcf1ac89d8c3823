"""Deterministic, clearly fictional demo organizations.

`generate_organizations(n, seed)` yields plain dicts (no database), so that
`seed_demo` and the search benchmarks (100,000 organizations) share one
generator. The same seed always gives the same organizations; identifiers
are valid (Luhn SIREN/SIRET, ICE mod 97-10 check digits, 9-digit PIC) and
unique within one run. PICs start with 8, a range CORDIS does not use, so a
fictional profile can never pick up a real organization's EU track record.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from stdnum import luhn

from matchmaking.taxonomy import CLUSTER_THEMES

FICTIONAL_FR = "(profil de démonstration fictif)"
FICTIONAL_EN = "(fictional demo profile)"

# Cluster code -> (country, demo member count, towns (name, lat, lon, weight)).
CLUSTER_TOWNS: dict[str, tuple[str, list[tuple[str, float, float, int]]]] = {
    "MNC": (
        "MA",
        [
            ("Casablanca", 33.5731, -7.5898, 10),
            ("Rabat", 34.0209, -6.8416, 5),
            ("Tanger", 35.7595, -5.8340, 2),
            ("Marrakech", 31.6295, -7.9811, 2),
            ("Fès", 34.0181, -5.0078, 1),
            ("Agadir", 30.4278, -9.5981, 1),
            ("Kénitra", 34.2610, -6.5802, 1),
        ],
    ),
    "SYSTEMATIC": (
        "FR",
        [
            ("Paris", 48.8566, 2.3522, 10),
            ("Saclay", 48.7308, 2.1681, 4),
            ("Massy", 48.7309, 2.2713, 3),
            ("Palaiseau", 48.7145, 2.2457, 3),
            ("Orsay", 48.6988, 2.1875, 2),
            ("Boulogne-Billancourt", 48.8397, 2.2399, 3),
            ("Issy-les-Moulineaux", 48.8245, 2.2743, 3),
            ("Versailles", 48.8049, 2.1204, 1),
            ("Évry-Courcouronnes", 48.6239, 2.4294, 1),
            ("Courbevoie", 48.8973, 2.2522, 2),
            ("Saint-Denis", 48.9362, 2.3574, 1),
        ],
    ),
    "IMAGES-RESEAUX": (
        "FR",
        [
            ("Rennes", 48.1173, -1.6778, 8),
            ("Cesson-Sévigné", 48.1214, -1.6030, 4),
            ("Brest", 48.3904, -4.4861, 5),
            ("Lannion", 48.7326, -3.4566, 4),
            ("Nantes", 47.2184, -1.5536, 4),
            ("Vannes", 47.6582, -2.7608, 1),
            ("Lorient", 47.7483, -3.3700, 1),
            ("Saint-Brieuc", 48.5136, -2.7603, 1),
            ("Quimper", 47.9960, -4.1024, 1),
        ],
    ),
}
DEMO_COUNTS = {"MNC": 40, "SYSTEMATIC": 300, "IMAGES-RESEAUX": 150}

# (kind, size bands, weight)
KINDS: list[tuple[str, tuple[str, ...], int]] = [
    ("startup", ("micro", "small"), 30),
    ("sme", ("small", "medium", "micro"), 35),
    ("midsize", ("medium", "large"), 9),
    ("large", ("large", "huge"), 8),
    ("university", ("large", "huge"), 5),
    ("research_lab", ("small", "medium", "large"), 9),
    ("public_body", ("medium", "large"), 2),
    ("association", ("micro", "small"), 2),
]
KIND_WORDS = {
    "startup": ("une jeune pousse", "a startup"),
    "sme": ("une PME", "an SME"),
    "midsize": ("une ETI", "a mid-size company"),
    "large": ("un grand groupe", "a large company"),
    "university": ("un établissement d'enseignement supérieur", "a higher-education institution"),
    "research_lab": ("un laboratoire de recherche", "a research laboratory"),
    "public_body": ("un organisme public", "a public body"),
    "association": ("une association", "an association"),
}


@dataclass(frozen=True)
class OpportunityTemplate:
    kind: str
    title_fr: str
    title_en: str
    text_fr: str
    text_en: str
    tags: tuple[str, ...]
    trl: tuple[int, int] | None  # range, None for business profiles


def _o(kind: str, tf: str, te: str, xf: str, xe: str, tags: str, trl: tuple[int, int] | None = (4, 7)) -> Any:
    return OpportunityTemplate(kind, tf, te, xf, xe, tuple(t.strip() for t in tags.split(",")), trl)


TO, TR, BO, BR, RD = "technology_offer", "technology_request", "business_offer", "business_request", "rd_partner_search"


@dataclass(frozen=True)
class ThemeContent:
    activity: tuple[str, str]
    products: tuple[tuple[str, str], ...]
    competences: tuple[str, ...]
    offers: tuple[OpportunityTemplate, ...]
    needs: tuple[OpportunityTemplate, ...]
    name_words: tuple[str, ...]


CONTENT: dict[str, ThemeContent] = {
    "mobile-services": ThemeContent(
        ("les services et applications mobiles", "mobile services and applications"),
        (
            ("des applications mobiles de banque et d'assurance", "mobile banking and insurance apps"),
            ("une plateforme de services USSD et SMS", "a USSD and SMS services platform"),
            ("des super-applications pour le commerce de proximité", "super-apps for local retail"),
        ),
        ("développement iOS", "Android", "Flutter", "USSD", "UX mobile", "mobile UX", "React Native", "SMS A2P"),
        (
            _o(
                TO,
                "Plateforme USSD/SMS multi-opérateurs",
                "Multi-operator USSD/SMS platform",
                "Plateforme éprouvée de services mobiles USSD et SMS, interconnectée aux principaux opérateurs "
                "d'Afrique du Nord et de l'Ouest, adaptée aux usagers non bancarisés.",
                "Proven USSD and SMS services platform, connected to the main North and West African operators, "
                "designed for unbanked users.",
                "USSD, SMS, Afrique, mobile",
                (7, 9),
            ),
            _o(
                BO,
                "Développement d'applications mobiles en co-traitance",
                "Mobile app development as a subcontractor",
                "Équipe de 25 développeurs mobiles (iOS, Android, Flutter) disponible en co-traitance nearshore, "
                "francophone, sur le fuseau horaire européen.",
                "Team of 25 mobile developers (iOS, Android, Flutter) available as nearshore subcontractor, "
                "French-speaking, on European time.",
                "nearshore, Flutter, iOS, Android",
                None,
            ),
        ),
        (
            _o(
                TR,
                "Recherche SDK d'authentification forte pour application mobile",
                "Looking for a strong-authentication SDK for a mobile app",
                "Nous recherchons un SDK d'authentification forte (biométrie, FIDO2) intégrable dans une "
                "application mobile grand public, conforme aux exigences européennes.",
                "We seek a strong-authentication SDK (biometrics, FIDO2) for a consumer mobile app, compliant "
                "with European requirements.",
                "authentification, FIDO2, biométrie, mobile",
                (6, 9),
            ),
            _o(
                BR,
                "Partenaire de distribution pour une application mobile en Afrique de l'Ouest",
                "Distribution partner for a mobile app in West Africa",
                "Application mobile validée au Maroc, nous cherchons un partenaire commercial pour l'Afrique de "
                "l'Ouest francophone.",
                "Mobile app proven in Morocco; we seek a commercial partner for French-speaking West Africa.",
                "distribution, Afrique, mobile",
                None,
            ),
        ),
        ("Mobile", "Appli", "Tap", "Swipe", "Pocket"),
    ),
    "multimedia": ThemeContent(
        ("le multimédia et les contenus numériques", "multimedia and digital content"),
        (
            ("une plateforme de diffusion vidéo en continu", "a video streaming platform"),
            ("des expériences en réalité augmentée", "augmented-reality experiences"),
            ("des outils de post-production", "post-production tools"),
        ),
        ("streaming vidéo", "video encoding", "HEVC", "réalité augmentée", "virtual reality", "WebRTC", "3D"),
        (
            _o(
                TO,
                "Encodage vidéo adaptatif à faible latence",
                "Low-latency adaptive video encoding",
                "Chaîne d'encodage HEVC/AV1 à faible latence pour la diffusion en direct, testée à grande échelle.",
                "HEVC/AV1 low-latency encoding chain for live streaming, tested at scale.",
                "vidéo, HEVC, AV1, streaming",
                (6, 8),
            ),
            _o(
                TO,
                "Studio de réalité augmentée pour le patrimoine",
                "Augmented-reality studio for cultural heritage",
                "Outils et contenus de réalité augmentée pour les musées et sites touristiques, en français, "
                "anglais et arabe.",
                "Augmented-reality tools and content for museums and tourist sites, in French, English and Arabic.",
                "réalité augmentée, patrimoine, tourisme",
                (5, 8),
            ),
        ),
        (
            _o(
                RD,
                "Partenaire de recherche en compression vidéo par IA",
                "Research partner in AI-based video compression",
                "Nous montons un projet collaboratif sur la compression vidéo par réseaux de neurones et "
                "recherchons un laboratoire académique.",
                "We are building a collaborative project on neural video compression and seek an academic lab.",
                "compression, IA, vidéo, recherche",
                (2, 4),
            ),
            _o(
                BR,
                "Distributeur de contenus éducatifs numériques au Maghreb",
                "Distributor of digital educational content in the Maghreb",
                "Recherche un distributeur pour des contenus éducatifs interactifs en français et en arabe.",
                "Looking for a distributor of interactive educational content in French and Arabic.",
                "e-learning, contenus, Maghreb",
                None,
            ),
        ),
        ("Media", "Vision", "Pixel", "Studio", "Kadr"),
    ),
    "software": ThemeContent(
        ("l'édition de logiciels et progiciels", "software and software packages"),
        (
            ("un progiciel de gestion intégré pour PME", "an ERP for SMEs"),
            ("un logiciel de gestion de la relation client en mode SaaS", "a SaaS customer-relationship software"),
            ("des solutions de dématérialisation", "paperless-office solutions"),
        ),
        ("ERP", "SaaS", "Java", "Python", "PostgreSQL", "dématérialisation", "intégration de systèmes", "DevOps"),
        (
            _o(
                TO,
                "Progiciel de gestion intégré multilingue pour PME",
                "Multilingual ERP for SMEs",
                "ERP modulaire (comptabilité, paie, stocks) conforme aux normes marocaines et françaises, disponible "
                "en SaaS, interface français/arabe/anglais.",
                "Modular ERP (accounting, payroll, inventory) compliant with Moroccan and French rules, available "
                "as SaaS, French/Arabic/English interface.",
                "ERP, SaaS, PME, comptabilité",
                (8, 9),
            ),
            _o(
                BO,
                "Centre de développement logiciel nearshore",
                "Nearshore software development centre",
                "Centre de services logiciels à Casablanca et Rabat : développement, tests, maintenance applicative.",
                "Software services centre in Casablanca and Rabat: development, testing, application maintenance.",
                "nearshore, développement, TMA",
                None,
            ),
        ),
        (
            _o(
                BR,
                "Intégrateur partenaire pour déployer notre ERP en France",
                "Integrator partner to deploy our ERP in France",
                "Nous recherchons un intégrateur français pour distribuer et déployer notre progiciel.",
                "We seek a French integrator to resell and deploy our software package.",
                "intégrateur, ERP, France",
                None,
            ),
            _o(
                TR,
                "Moteur de règles métier open source",
                "Open-source business rules engine",
                "Recherche un moteur de règles métier libre, maintenu, pour notre progiciel de gestion.",
                "Looking for a maintained open-source business rules engine for our management software.",
                "règles métier, open source",
                (7, 9),
            ),
        ),
        ("Soft", "Logic", "Code", "Ware", "Stack"),
    ),
    "e-payment": ThemeContent(
        ("le paiement électronique et la monétique", "electronic payment"),
        (
            ("une passerelle de paiement en ligne", "an online payment gateway"),
            ("un portefeuille de paiement mobile", "a mobile wallet"),
            ("des terminaux de paiement", "payment terminals"),
        ),
        ("monétique", "PCI DSS", "EMV", "mobile money", "open banking", "paiement en ligne", "tokenisation"),
        (
            _o(
                TO,
                "Passerelle de paiement certifiée PCI DSS",
                "PCI DSS-certified payment gateway",
                "Passerelle de paiement multi-acquéreurs certifiée PCI DSS, cartes locales et internationales, "
                "paiement mobile.",
                "Multi-acquirer payment gateway, PCI DSS certified, local and international cards, mobile payment.",
                "paiement, PCI DSS, passerelle",
                (8, 9),
            ),
            _o(
                TO,
                "Portefeuille électronique interopérable",
                "Interoperable mobile wallet",
                "Portefeuille de paiement mobile interopérable entre banques et opérateurs, agréé par la banque "
                "centrale.",
                "Mobile wallet interoperable between banks and operators, licensed by the central bank.",
                "mobile money, wallet, interopérabilité",
                (7, 9),
            ),
        ),
        (
            _o(
                TR,
                "Détection de fraude par apprentissage automatique",
                "Machine-learning fraud detection",
                "Nous cherchons une technologie de détection de fraude en temps réel sur les transactions de "
                "paiement mobile.",
                "We seek real-time fraud detection technology for mobile payment transactions.",
                "fraude, machine learning, paiement",
                (5, 8),
            ),
            _o(
                TR,
                "Audit de sécurité et tests d'intrusion pour plateforme de paiement",
                "Security audit and penetration tests for a payment platform",
                "Recherche un partenaire qualifié pour auditer notre plateforme de paiement avant certification.",
                "Looking for a qualified partner to audit our payment platform before certification.",
                "audit, sécurité, pentest, paiement",
                (7, 9),
            ),
        ),
        ("Pay", "Cash", "Wallet", "Flouss", "Mony"),
    ),
    "cybersecurity": ThemeContent(
        ("la cybersécurité et la confiance numérique", "cybersecurity and digital trust"),
        (
            ("une sonde de détection d'intrusion", "an intrusion detection probe"),
            ("des services d'audit et de tests d'intrusion", "audit and penetration testing services"),
            ("une solution de gestion des identités", "an identity management solution"),
        ),
        ("tests d'intrusion", "SOC", "SIEM", "cryptographie", "PKI", "ISO 27001", "threat intelligence", "IAM"),
        (
            _o(
                TO,
                "Audit de sécurité et tests d'intrusion",
                "Security audits and penetration testing",
                "Équipe d'auditeurs qualifiés : tests d'intrusion, revue de code, audit d'architecture, "
                "préparation aux certifications ISO 27001 et PCI DSS.",
                "Team of qualified auditors: penetration tests, code review, architecture audit, preparation for "
                "ISO 27001 and PCI DSS certification.",
                "pentest, audit, ISO 27001, PCI DSS",
                (8, 9),
            ),
            _o(
                TO,
                "Détection d'intrusion par apprentissage automatique",
                "Machine-learning intrusion detection",
                "Sonde réseau qui détecte les comportements anormaux par apprentissage automatique, adaptée aux "
                "réseaux industriels et télécoms.",
                "Network probe detecting abnormal behaviour with machine learning, suited to industrial and "
                "telecom networks.",
                "IDS, machine learning, SOC",
                (6, 8),
            ),
        ),
        (
            _o(
                RD,
                "Consortium Horizon Europe sur la cryptographie post-quantique",
                "Horizon Europe consortium on post-quantum cryptography",
                "Nous cherchons des partenaires industriels et académiques pour un projet sur la migration vers "
                "la cryptographie post-quantique.",
                "We seek industrial and academic partners for a project on migrating to post-quantum cryptography.",
                "post-quantique, cryptographie, Horizon Europe",
                (3, 5),
            ),
            _o(
                BR,
                "Partenaire SOC en Afrique du Nord",
                "SOC partner in North Africa",
                "Nous cherchons un partenaire pour opérer un centre de supervision de sécurité pour nos clients "
                "d'Afrique du Nord.",
                "We seek a partner to operate a security operations centre for our North African customers.",
                "SOC, Afrique du Nord, partenariat",
                None,
            ),
        ),
        ("Cyber", "Secure", "Shield", "Trust", "Crypt"),
    ),
    "ai-data": ThemeContent(
        ("l'intelligence artificielle et la science des données", "artificial intelligence and data science"),
        (
            ("des modèles de langue pour le français et l'arabe", "language models for French and Arabic"),
            ("une plateforme d'analyse de données", "a data analytics platform"),
            ("de la vision par ordinateur pour l'industrie", "computer vision for industry"),
        ),
        ("machine learning", "deep learning", "NLP", "vision par ordinateur", "big data", "MLOps", "data science"),
        (
            _o(
                TO,
                "Traitement automatique de l'arabe et du darija",
                "Natural language processing for Arabic and Darija",
                "Modèles de traitement automatique des langues pour l'arabe standard et le darija marocain : "
                "classification, extraction d'entités, agents conversationnels.",
                "NLP models for Modern Standard Arabic and Moroccan Darija: classification, entity extraction, "
                "chatbots.",
                "NLP, arabe, darija, chatbot",
                (5, 8),
            ),
            _o(
                TO,
                "Vision par ordinateur pour le contrôle qualité",
                "Computer vision for quality control",
                "Inspection visuelle automatique par apprentissage profond sur lignes de production.",
                "Automatic visual inspection with deep learning on production lines.",
                "vision, deep learning, qualité",
                (6, 8),
            ),
        ),
        (
            _o(
                TR,
                "Jeux de données annotés en arabe",
                "Annotated Arabic datasets",
                "Nous recherchons un partenaire capable de produire des jeux de données annotés en arabe et en darija.",
                "We seek a partner able to produce annotated datasets in Arabic and Darija.",
                "données, annotation, arabe",
                (4, 7),
            ),
            _o(
                RD,
                "IA frugale et explicable : partenaires recherchés",
                "Frugal and explainable AI: partners wanted",
                "Projet collaboratif sur l'IA frugale et explicable pour l'embarqué ; recherche PME et laboratoires.",
                "Collaborative project on frugal, explainable AI for embedded systems; seeking SMEs and labs.",
                "IA frugale, explicabilité, embarqué",
                (2, 4),
            ),
        ),
        ("Data", "Neuro", "Cognit", "Insight", "Mind"),
    ),
    "open-source": ThemeContent(
        ("le logiciel libre", "open-source software"),
        (
            ("des services autour des logiciels libres", "open-source services"),
            ("une distribution logicielle libre pour l'entreprise", "an open-source enterprise software stack"),
        ),
        ("logiciel libre", "Linux", "Kubernetes", "PostgreSQL", "gouvernance open source", "contribution upstream"),
        (
            _o(
                TO,
                "Support et maintenance de logiciels libres",
                "Open-source support and maintenance",
                "Support niveau 3 et maintenance de briques libres (Linux, PostgreSQL, Kubernetes) "
                "pour grands comptes.",
                "Level-3 support and maintenance of open-source components (Linux, PostgreSQL, Kubernetes).",
                "open source, support, Kubernetes",
                (9, 9),
            ),
        ),
        (
            _o(
                BR,
                "Partenaires intégrateurs open source au Maroc",
                "Open-source integrator partners in Morocco",
                "Nous souhaitons constituer un réseau de partenaires intégrateurs au Maroc "
                "pour notre plateforme libre.",
                "We want to build a network of integrator partners in Morocco for our open-source platform.",
                "open source, intégrateur, Maroc",
                None,
            ),
        ),
        ("Libre", "Open", "Commons", "Forge"),
    ),
    "optics-photonics": ThemeContent(
        ("l'optique et la photonique", "optics and photonics"),
        (
            ("des lasers à impulsions ultra-courtes", "ultrafast lasers"),
            ("des capteurs lidar", "lidar sensors"),
            ("des composants photoniques intégrés", "integrated photonic components"),
        ),
        ("laser", "lidar", "photonique intégrée", "fibre optique", "imagerie", "spectroscopie"),
        (
            _o(
                TO,
                "Lidar compact pour la mobilité",
                "Compact lidar for mobility",
                "Capteur lidar à balayage solide, compact et bas coût, pour véhicules et infrastructures.",
                "Solid-state, compact, low-cost lidar sensor for vehicles and infrastructure.",
                "lidar, capteur, mobilité",
                (5, 7),
            ),
        ),
        (
            _o(
                RD,
                "Photonique intégrée pour les télécoms : consortium",
                "Integrated photonics for telecoms: consortium",
                "Recherche d'opérateurs et d'équipementiers pour valider des émetteurs-récepteurs photoniques.",
                "Seeking operators and equipment makers to validate photonic transceivers.",
                "photonique, télécoms, émetteur-récepteur",
                (3, 5),
            ),
        ),
        ("Photon", "Lumen", "Optic", "Laser"),
    ),
    "smart-cities": ThemeContent(
        ("la ville intelligente et la mobilité durable", "smart cities and sustainable mobility"),
        (
            ("une plateforme de gestion du trafic", "a traffic management platform"),
            ("des services de mobilité partagée", "shared mobility services"),
        ),
        ("smart city", "jumeau numérique", "mobilité", "MaaS", "éclairage intelligent", "gestion du trafic"),
        (
            _o(
                TO,
                "Jumeau numérique urbain",
                "Urban digital twin",
                "Plateforme de jumeau numérique de la ville : réseaux, trafic, énergie, simulation de scénarios.",
                "City digital twin platform: networks, traffic, energy, scenario simulation.",
                "jumeau numérique, ville intelligente",
                (6, 8),
            ),
        ),
        (
            _o(
                BR,
                "Villes pilotes au Maroc pour une solution de mobilité",
                "Pilot cities in Morocco for a mobility solution",
                "Nous cherchons des partenaires locaux pour des pilotes de mobilité partagée à Casablanca et Rabat.",
                "We seek local partners for shared-mobility pilots in Casablanca and Rabat.",
                "mobilité, pilote, Maroc",
                None,
            ),
        ),
        ("City", "Mobil", "Urba", "Move"),
    ),
    "health-tech": ThemeContent(
        ("la santé numérique", "digital health"),
        (
            ("une plateforme de télémédecine", "a telemedicine platform"),
            ("un dispositif médical connecté", "a connected medical device"),
            ("de l'aide au diagnostic par IA", "AI-assisted diagnosis"),
        ),
        ("télémédecine", "HDS", "dispositif médical", "imagerie médicale", "HL7 FHIR", "e-santé"),
        (
            _o(
                TO,
                "Plateforme de télémédecine hébergée HDS",
                "Telemedicine platform with certified health-data hosting",
                "Téléconsultation, télésurveillance et dossier partagé, hébergement certifié données de santé.",
                "Teleconsultation, remote monitoring and shared records, certified health-data hosting.",
                "télémédecine, HDS, FHIR",
                (8, 9),
            ),
        ),
        (
            _o(
                RD,
                "Partenaires cliniques pour l'IA en imagerie médicale",
                "Clinical partners for AI in medical imaging",
                "Recherche hôpitaux et laboratoires pour valider un algorithme d'aide au diagnostic.",
                "Seeking hospitals and labs to validate a diagnosis-support algorithm.",
                "imagerie médicale, IA, validation clinique",
                (4, 6),
            ),
        ),
        ("Santé", "Med", "Care", "Vita"),
    ),
    "quantum": ThemeContent(
        ("les technologies quantiques", "quantum technologies"),
        (
            ("des logiciels pour ordinateurs quantiques", "software for quantum computers"),
            ("des capteurs quantiques", "quantum sensors"),
        ),
        ("informatique quantique", "qubits", "algorithmes quantiques", "cryptographie post-quantique"),
        (
            _o(
                TO,
                "Compilateur pour algorithmes quantiques",
                "Compiler for quantum algorithms",
                "Chaîne de compilation et d'optimisation de circuits quantiques, indépendante du matériel.",
                "Hardware-agnostic compilation and optimisation chain for quantum circuits.",
                "quantique, compilateur, circuits",
                (3, 5),
            ),
        ),
        (
            _o(
                RD,
                "Cas d'usage industriels de l'optimisation quantique",
                "Industrial use cases for quantum optimisation",
                "Recherche industriels (logistique, énergie) pour tester l'optimisation quantique sur leurs données.",
                "Seeking industrial partners (logistics, energy) to test quantum optimisation on their data.",
                "quantique, optimisation, logistique",
                (2, 4),
            ),
        ),
        ("Quanta", "Qubit", "Spin"),
    ),
    "embedded-systems": ThemeContent(
        ("les systèmes embarqués", "embedded systems"),
        (
            ("des calculateurs embarqués critiques", "safety-critical embedded computers"),
            ("des outils de vérification formelle", "formal verification tools"),
        ),
        ("logiciel embarqué", "temps réel", "FPGA", "vérification formelle", "DO-178C", "ISO 26262", "Rust"),
        (
            _o(
                TO,
                "Vérification formelle de logiciels critiques",
                "Formal verification of critical software",
                "Outils et services de preuve formelle pour logiciels embarqués ferroviaires, aéronautiques et auto.",
                "Formal proof tools and services for rail, aerospace and automotive embedded software.",
                "vérification formelle, sûreté, embarqué",
                (7, 9),
            ),
        ),
        (
            _o(
                BR,
                "Sous-traitance en développement embarqué",
                "Embedded development subcontracting",
                "Recherche un partenaire nearshore pour développement et tests de logiciel embarqué.",
                "Seeking a nearshore partner for embedded software development and testing.",
                "embarqué, nearshore, tests",
                None,
            ),
        ),
        ("Embed", "Silicon", "Chip", "Core"),
    ),
    "industry-40": ThemeContent(
        ("l'industrie du futur", "Industry 4.0"),
        (
            ("une plateforme de maintenance prédictive", "a predictive maintenance platform"),
            ("des robots collaboratifs", "collaborative robots"),
        ),
        ("maintenance prédictive", "robotique", "jumeau numérique", "MES", "OPC UA", "IIoT"),
        (
            _o(
                TO,
                "Maintenance prédictive pour sites industriels",
                "Predictive maintenance for industrial sites",
                "Capteurs et analyse vibratoire pour anticiper les pannes des machines tournantes.",
                "Sensors and vibration analytics to anticipate failures of rotating machines.",
                "maintenance prédictive, IIoT, capteurs",
                (7, 9),
            ),
        ),
        (
            _o(
                BR,
                "Industriels marocains pour pilotes de maintenance prédictive",
                "Moroccan manufacturers for predictive-maintenance pilots",
                "Nous cherchons des sites pilotes dans l'automobile et l'aéronautique au Maroc.",
                "We seek pilot sites in the automotive and aerospace industries in Morocco.",
                "pilote, industrie, Maroc",
                None,
            ),
        ),
        ("Indus", "Robo", "Factory", "Mecha"),
    ),
    "networks": ThemeContent(
        ("les réseaux et télécommunications", "networks and telecommunications"),
        (
            ("des équipements de réseau optique", "optical network equipment"),
            ("de la virtualisation des fonctions réseau", "network function virtualisation"),
        ),
        ("SDN", "NFV", "fibre optique", "routage", "télécoms", "très haut débit", "cœur de réseau"),
        (
            _o(
                TO,
                "Fonctions réseau virtualisées pour opérateurs",
                "Virtualised network functions for operators",
                "Fonctions réseau virtualisées (pare-feu, routage, QoS) orchestrées sur cloud d'opérateur.",
                "Virtualised network functions (firewall, routing, QoS) orchestrated on an operator cloud.",
                "NFV, SDN, opérateur",
                (6, 8),
            ),
        ),
        (
            _o(
                BR,
                "Opérateurs partenaires en Afrique",
                "Operator partners in Africa",
                "Nous recherchons des intégrateurs télécoms au Maroc pour accéder aux opérateurs africains.",
                "We seek telecom integrators in Morocco to reach African operators.",
                "télécoms, Afrique, intégrateur",
                None,
            ),
        ),
        ("Net", "Link", "Telco", "Fibre"),
    ),
    "mobile-networks": ThemeContent(
        ("les réseaux mobiles 4G et 5G", "4G and 5G mobile networks"),
        (
            ("des petites cellules 5G", "5G small cells"),
            ("des réseaux privés 4G/5G pour l'industrie", "private 4G/5G networks for industry"),
        ),
        ("5G", "LTE", "Open RAN", "réseau privé", "small cells", "slicing", "edge computing"),
        (
            _o(
                TO,
                "Réseau privé 5G clé en main",
                "Turnkey private 5G network",
                "Cœur de réseau 5G compact et petites cellules pour sites industriels et portuaires.",
                "Compact 5G core and small cells for industrial and port sites.",
                "5G, réseau privé, edge",
                (7, 9),
            ),
        ),
        (
            _o(
                TR,
                "Accès à un réseau de test 4G/5G",
                "Access to a 4G/5G test network",
                "Nous cherchons une plateforme d'expérimentation 4G/5G pour valider notre application avant "
                "déploiement chez un opérateur.",
                "We need a 4G/5G experimentation platform to validate our application before operator roll-out.",
                "5G, banc d'essai, test, LTE",
                (5, 7),
            ),
        ),
        ("Radio", "Wave", "Cell", "Spectrum"),
    ),
    "iot": ThemeContent(
        ("l'internet des objets", "the Internet of Things"),
        (
            ("des capteurs connectés basse consommation", "low-power connected sensors"),
            ("une plateforme de gestion d'objets connectés", "an IoT device management platform"),
        ),
        ("LoRaWAN", "NB-IoT", "capteurs", "objets connectés", "basse consommation", "MQTT", "agriculture connectée"),
        (
            _o(
                TO,
                "Capteurs LoRaWAN pour l'agriculture",
                "LoRaWAN sensors for agriculture",
                "Capteurs d'humidité du sol et stations météo LoRaWAN, autonomie de cinq ans, pour l'irrigation.",
                "Soil-moisture sensors and LoRaWAN weather stations, five-year battery, for irrigation.",
                "LoRaWAN, agriculture, irrigation",
                (7, 9),
            ),
        ),
        (
            _o(
                BR,
                "Partenaire pour déploiements IoT agricoles au Maroc",
                "Partner for agricultural IoT roll-outs in Morocco",
                "Nous cherchons un intégrateur au Maroc pour déployer nos capteurs dans les exploitations agricoles.",
                "We seek an integrator in Morocco to deploy our sensors on farms.",
                "IoT, agriculture, Maroc",
                None,
            ),
        ),
        ("Sense", "Connect", "Objet", "Node"),
    ),
    "cloud": ThemeContent(
        ("le cloud et les centres de données", "cloud and data centres"),
        (
            ("un cloud souverain", "a sovereign cloud"),
            ("des services d'hébergement et d'infogérance", "hosting and managed services"),
        ),
        ("cloud souverain", "Kubernetes", "infogérance", "datacenter", "edge computing", "PRA"),
        (
            _o(
                TO,
                "Hébergement cloud souverain certifié",
                "Certified sovereign cloud hosting",
                "Cloud privé et public hébergé localement, certifié, avec plan de reprise d'activité.",
                "Locally hosted private and public cloud, certified, with disaster recovery.",
                "cloud, souverain, hébergement",
                (9, 9),
            ),
        ),
        (
            _o(
                TR,
                "Orchestration edge pour applications temps réel",
                "Edge orchestration for real-time applications",
                "Recherche une solution d'orchestration edge pour des applications industrielles à faible latence.",
                "Seeking an edge orchestration solution for low-latency industrial applications.",
                "edge, orchestration, latence",
                (6, 8),
            ),
        ),
        ("Cloud", "Nimbus", "Host", "Sky"),
    ),
    "e-learning": ThemeContent(
        ("l'éducation numérique", "digital learning"),
        (("une plateforme de formation en ligne", "an online learning platform"),),
        ("e-learning", "LMS", "classes virtuelles", "gamification"),
        (
            _o(
                TO,
                "Plateforme de formation en ligne multilingue",
                "Multilingual online learning platform",
                "Plateforme LMS en français, arabe et anglais, hors ligne sur mobile.",
                "LMS platform in French, Arabic and English, offline on mobile.",
                "LMS, e-learning, mobile",
                (8, 9),
            ),
        ),
        (),
        ("Learn", "Edu", "Campus"),
    ),
}

GENERIC_NEEDS: dict[str, tuple[OpportunityTemplate, ...]] = {
    "MA": (
        _o(
            BR,
            "Partenaire français pour l'accès au marché européen",
            "French partner for access to the European market",
            "Nous cherchons un partenaire en France pour co-commercialiser notre solution auprès de clients européens.",
            "We seek a partner in France to co-market our solution to European customers.",
            "France, Europe, marché, partenariat",
            None,
        ),
        _o(
            RD,
            "Rejoindre un consortium Horizon Europe",
            "Join a Horizon Europe consortium",
            "Entreprise marocaine innovante, nous souhaitons rejoindre un consortium Horizon Europe comme partenaire "
            "apportant un terrain d'expérimentation en Afrique.",
            "Innovative Moroccan company wishing to join a Horizon Europe consortium as a partner bringing an "
            "African pilot site.",
            "Horizon Europe, consortium, Afrique",
            (4, 6),
        ),
    ),
    "FR": (
        _o(
            BR,
            "Partenaire marocain pour les marchés africains",
            "Moroccan partner for African markets",
            "Nous recherchons un partenaire au Maroc pour adresser les marchés d'Afrique francophone.",
            "We seek a partner in Morocco to address French-speaking African markets.",
            "Maroc, Afrique, export",
            None,
        ),
        _o(
            BR,
            "Co-localisation d'une équipe de développement au Maroc",
            "Co-locating a development team in Morocco",
            "Nous envisageons d'ouvrir une équipe de développement à Casablanca ou Rabat avec un partenaire local.",
            "We plan to open a development team in Casablanca or Rabat with a local partner.",
            "nearshore, Maroc, co-localisation",
            None,
        ),
    ),
}

# Latin name parts per country, and Arabic-script names for some Moroccan members.
NAME_PREFIXES = {
    "MA": (
        "Atlas",
        "Argan",
        "Menara",
        "Oasis",
        "Sahara",
        "Tafilalet",
        "Anfa",
        "Bouregreg",
        "Zellige",
        "Majorelle",
        "Rif",
        "Souss",
        "Chaouia",
        "Draa",
        "Ifrane",
        "Medina",
        "Noor",
        "Amal",
        "Tigmi",
        "Azur",
    ),
    "FR": (
        "Lutèce",
        "Seine",
        "Orsay",
        "Yvette",
        "Bièvre",
        "Armor",
        "Iroise",
        "Breizh",
        "Émeraude",
        "Rance",
        "Vilaine",
        "Odet",
        "Penmarc'h",
        "Ouessant",
        "Morbihan",
        "Azur",
        "Nova",
        "Sirius",
        "Altaïr",
        "Hermine",
        "Korrigan",
        "Menhir",
        "Aven",
        "Kerlan",
        "Montsouris",
        "Marais",
        "Belleville",
        "Saclay",
        "Gif",
        "Lozère",
    ),
}
LEGAL_FORMS = {"MA": ("SARL", "SA", "SARL AU"), "FR": ("SAS", "SARL", "SA", "SASU")}
ARABIC_FIRST = ("أطلس", "الأرز", "المنارة", "النخيل", "الواحة", "الزيتون", "الأمل", "النور", "سبأ", "الريف")
ARABIC_SECOND = ("للحلول الرقمية", "للتكنولوجيا", "للبرمجيات", "للاتصالات", "للأداء الإلكتروني", "للخدمات المتنقلة")
ARABIC_LATIN = {
    "للحلول الرقمية": "DS",
    "للتكنولوجيا": "Tech",
    "للبرمجيات": "Soft",
    "للاتصالات": "Telecom",
    "للأداء الإلكتروني": "Pay",
    "للخدمات المتنقلة": "Mobile",
}
ACADEMIC_NAMES = {
    "university": ("Université fictive de {city}", "École supérieure fictive du numérique de {city}"),
    "research_lab": ("Laboratoire fictif {word} de {city}", "Institut fictif de recherche {word} ({city})"),
    "public_body": ("Agence fictive du numérique de {city}",),
    "association": ("Association fictive {word} {city}",),
}
LANGUAGES = {
    "MA": (["fr", "ar", "en"], ["fr", "ar"], ["ar", "fr", "en", "es"]),
    "FR": (["fr", "en"], ["fr"], ["fr", "en", "de"]),
}
VISIBILITIES = (("everyone", 60), ("partners", 30), ("cluster", 10))


def _weighted(rng: random.Random, items: list[tuple[Any, int]]) -> Any:
    return rng.choices([item for item, _ in items], weights=[w for _, w in items])[0]


def siren_for(index: int, salt: int = 0) -> str:
    """A valid, deterministic SIREN (8 digits + Luhn check digit); distinct for distinct (index, salt)."""
    body = f"{(31_000_000 + salt * 7_000_000 + index) % 100_000_000:08d}"
    return body + luhn.calc_check_digit(body)


def siret_for(siren: str, establishment: int = 1) -> str:
    body = siren + f"{establishment:04d}"
    return body + luhn.calc_check_digit(body)


def ice_for(index: int, salt: int = 0) -> str:
    body = f"{(1_700_000_000_000 + salt * 10_000_000 + index) % 10**13:013d}"
    # Moroccan ICE: the 15-digit number is a multiple of 97 (stdnum checks mod_97_10.checksum == 0),
    # unlike IBAN-style ISO 7064 where the remainder is 1, so calc_check_digits does not apply.
    return body + f"{(-int(body) * 100) % 97:02d}"


def pic_for(index: int, salt: int = 0) -> str:
    """9-digit PICs starting with 8: never a real CORDIS PIC (those start with 9)."""
    return f"{800_000_000 + (salt * 10_000_000 + index) % 100_000_000:09d}"


def _cluster_for(rng: random.Random, clusters: list[str]) -> str:
    return _weighted(rng, [(code, DEMO_COUNTS.get(code, 1)) for code in clusters])


def _opportunity(rng: random.Random, template: OpportunityTemplate, english: bool, today: date) -> dict[str, Any]:
    trl = rng.randint(*template.trl) if template.trl else None
    return {
        "kind": template.kind,
        "title": template.title_en if english else template.title_fr,
        "text": template.text_en if english else template.text_fr,
        "trl": trl,
        "tags": list(template.tags),
        "expires_on": (today + timedelta(days=rng.randint(60, 540))).isoformat() if rng.random() < 0.7 else None,
    }


def generate_organizations(
    n: int, seed: int = 2026, *, clusters: list[str] | None = None, salt: int = 0, today: date | None = None
) -> Iterator[dict[str, Any]]:
    """Yield `n` fictional organization dicts in the import format, plus `cluster`, `opportunities`,
    `profile_status` and `membership_status` keys.

    `clusters` restricts (and fixes the order of) the clusters drawn from,
    weighted by their demo sizes; `salt` shifts the identifier ranges so two
    generated populations in one database do not collide (SIREN/ICE/PIC stay
    unique for up to 7,000,000 organizations per salt).
    """
    rng = random.Random(seed)
    codes = clusters or list(DEMO_COUNTS)
    # Expiry dates are relative to `today` so demo offers are current; pass a date for byte-identical output.
    today = today or date.today()
    used_names: dict[str, int] = {}
    for index in range(n):
        cluster = _cluster_for(rng, codes) if len(codes) > 1 else codes[0]
        yield _organization(rng, index, cluster, today, used_names, salt)


def _organization(
    rng: random.Random, index: int, cluster: str, today: date, used_names: dict[str, int], salt: int
) -> dict[str, Any]:
    country, towns = CLUSTER_TOWNS.get(cluster, ("FR", CLUSTER_TOWNS["SYSTEMATIC"][1]))
    city, lat, lon, _w = _weighted(rng, [(town, town[3]) for town in towns])
    kind, bands, _ = _weighted(rng, [(k, k[2]) for k in KINDS])
    specs = CLUSTER_THEMES.get(cluster) or CLUSTER_THEMES["SYSTEMATIC"]
    main = rng.choice(specs)
    themes = [main.shared, *main.related]
    if rng.random() < 0.4:
        extra = rng.choice(specs)
        themes += [extra.shared, *extra.related]
    themes = list(dict.fromkeys(t for t in themes if t in CONTENT))
    content = CONTENT[themes[0]]

    # Names: academic kinds get institutional names; some Moroccan firms an Arabic-script name.
    word = rng.choice(content.name_words)
    arabic = False
    if kind in ACADEMIC_NAMES:
        legal_name = rng.choice(ACADEMIC_NAMES[kind]).format(city=city, word=word)
        acronym = "".join(part[0] for part in legal_name.replace("(", "").split() if part[0].isupper())[:8]
    elif country == "MA" and rng.random() < 0.3:
        first, second = rng.choice(ARABIC_FIRST), rng.choice(ARABIC_SECOND)
        legal_name = f"{first} {second} {rng.choice(LEGAL_FORMS['MA'])}"
        acronym = f"{rng.choice(NAME_PREFIXES['MA'])} {ARABIC_LATIN[second]}"
        arabic = True
    else:
        prefix = rng.choice(NAME_PREFIXES[country if country in NAME_PREFIXES else "FR"])
        acronym = f"{prefix}{word}" if rng.random() < 0.5 else f"{prefix} {word}"
        legal_name = f"{acronym} {rng.choice(LEGAL_FORMS.get(country, LEGAL_FORMS['FR']))}"
    # Numbering repeats keeps names unique in O(1) even for benchmark-sized populations.
    seen = used_names.get(legal_name, 0)
    used_names[legal_name] = seen + 1
    if seen:
        legal_name = f"{legal_name} {seen + 1}"

    competences = rng.sample(content.competences, k=min(len(content.competences), rng.randint(3, 5)))
    for other in themes[1:]:
        competences += rng.sample(CONTENT[other].competences, k=min(2, len(CONTENT[other].competences)))
    competences = list(dict.fromkeys(competences))

    product_fr, product_en = rng.choice(content.products)
    kind_fr, kind_en = KIND_WORDS[kind]
    founded = rng.randint(1985 if kind in {"large", "university", "public_body"} else 2005, 2024)
    markets_fr, markets_en = (
        ("au Maroc, en Afrique de l'Ouest et en Europe", "Morocco, West Africa and Europe")
        if country == "MA"
        else ("en France, en Europe et en Afrique du Nord", "France, Europe and North Africa")
    )
    description_fr = (
        f"{acronym} est {kind_fr} basée à {city}, fondée en {founded}, active dans {content.activity[0]}. "
        f"Nous développons {product_fr} pour des clients {markets_fr}. "
        f"Compétences clés : {', '.join(competences[:4])}. {FICTIONAL_FR}"
    )
    description_en = (
        f"{acronym} is {kind_en} based in {city}, founded in {founded}, working in {content.activity[1]}. "
        f"We build {product_en} for customers in {markets_en}. "
        f"Key competences: {', '.join(competences[:4])}. {FICTIONAL_EN}"
    )
    if arabic:
        description_fr += f" Nom commercial : {legal_name}."

    # Identifiers by country, with some missing, as in real directories.
    siren = siret = ice = pic = None
    if country == "FR":
        siren = siren_for(index, salt)
        if rng.random() < 0.7:
            siret = siret_for(siren, rng.randint(1, 40))
    elif country == "MA":
        ice = ice_for(index, salt)
    if kind in {"university", "research_lab", "large"} or rng.random() < 0.25:
        pic = pic_for(index, salt)

    english = rng.random() < (0.25 if country == "MA" else 0.35)
    opportunities = [_opportunity(rng, rng.choice(content.offers), english, today)]
    if content.needs and rng.random() < 0.8:
        opportunities.append(_opportunity(rng, rng.choice(content.needs), english, today))
    if rng.random() < 0.35:
        opportunities.append(
            _opportunity(rng, rng.choice(GENERIC_NEEDS.get(country, GENERIC_NEEDS["FR"])), english, today)
        )
    if len(themes) > 1 and rng.random() < 0.4 and CONTENT[themes[1]].offers:
        opportunities.append(_opportunity(rng, rng.choice(CONTENT[themes[1]].offers), english, today))
    unique: dict[str, dict[str, Any]] = {}
    for opportunity in opportunities:  # one per title, first one wins
        unique.setdefault(opportunity["title"], opportunity)
    opportunities = list(unique.values())

    roll = rng.random()
    if roll < 0.9:
        profile_status, membership_status = "validated", "admitted"
    elif roll < 0.95:
        profile_status, membership_status = "submitted", "applied"
    elif roll < 0.975:
        profile_status, membership_status = "draft", "applied"
    else:
        profile_status, membership_status = "validated", "lapsed"

    slug = "".join(ch for ch in acronym.lower() if ch.isascii() and ch.isalnum()) or f"org{index}"
    return {
        "legal_name": legal_name,
        "acronym": acronym[:60],
        "kind": kind,
        "size_band": rng.choice(bands),
        "country": country,
        "city": city,
        "latitude": round(lat + rng.uniform(-0.03, 0.03), 5),
        "longitude": round(lon + rng.uniform(-0.03, 0.03), 5),
        "website": f"https://{slug}-{index}.example",
        "siren": siren,
        "siret": siret,
        "ice": ice,
        "pic": pic,
        "description_fr": description_fr,
        "description_en": description_en,
        "competences": competences,
        "themes": themes,
        "languages": list(rng.choice(LANGUAGES.get(country, LANGUAGES["FR"]))),
        "visibility": _weighted(rng, list(VISIBILITIES)),
        "cluster": cluster,
        "opportunities": opportunities,
        "profile_status": profile_status,
        "membership_status": membership_status,
    }
