"""The shared theme taxonomy, its bilingual synonym groups, and each cluster's own themes mapped onto it.

This module is the source of the taxonomy rows (`ensure_taxonomy` writes them,
idempotently) and of the synonym list the search analysis uses
(`synonym_groups()`, in Solr/Elasticsearch "a, b, c" equivalence syntax).
Keeping both in one place means the themes and the synonyms cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction


@dataclass(frozen=True)
class SharedTheme:
    code: str
    label_fr: str
    label_en: str
    synonyms: tuple[str, ...] = ()
    parent: str | None = None


@dataclass(frozen=True)
class ClusterThemeSpec:
    code: str
    label: str
    shared: str  # SharedTheme.code
    # Further shared themes that members under this cluster theme usually also carry.
    related: tuple[str, ...] = field(default=())


SHARED_THEMES: tuple[SharedTheme, ...] = (
    SharedTheme(
        "digital",
        "Numérique",
        "Digital technologies",
        ("numérique, digital, TIC, ICT, technologies de l'information, information technology",),
    ),
    SharedTheme(
        "mobile-services",
        "Services mobiles",
        "Mobile services",
        (
            "services mobiles, mobile services, m-services",
            "application mobile, mobile app, appli mobile, mobile application",
            "smartphone, téléphone intelligent, mobile phone, téléphone mobile",
        ),
        "digital",
    ),
    SharedTheme(
        "multimedia",
        "Multimédia et contenus numériques",
        "Multimedia & digital content",
        (
            "multimédia, multimedia",
            "contenu numérique, digital content, médias numériques, digital media",
            "vidéo, video, streaming, diffusion en continu",
            "réalité virtuelle, virtual reality, VR, réalité augmentée, augmented reality, AR",
        ),
        "digital",
    ),
    SharedTheme(
        "software",
        "Logiciels et progiciels",
        "Software & software packages",
        (
            "progiciel, software package, logiciel, software",
            "progiciel de gestion intégré, PGI, ERP, enterprise resource planning",
            "logiciel en tant que service, software as a service, SaaS",
            "génie logiciel, software engineering, développement logiciel, software development",
        ),
        "digital",
    ),
    SharedTheme(
        "e-payment",
        "Paiement électronique",
        "E-payment",
        (
            "paiement électronique, monétique, e-payment, electronic payment, paiement en ligne, online payment",
            "paiement mobile, mobile payment, m-paiement, mobile money",
            "carte bancaire, card payment, bank card",
            "technologie financière, fintech, finance numérique, digital finance",
        ),
        "digital",
    ),
    SharedTheme(
        "cybersecurity",
        "Cybersécurité et confiance numérique",
        "Cybersecurity & digital trust",
        (
            "cybersécurité, cybersecurity, cyber-sécurité, cyber security",
            "sécurité des systèmes d'information, information system security, sécurité informatique, IT security",
            "confiance numérique, digital trust",
            "cryptographie, cryptography, chiffrement, encryption",
            "identité numérique, digital identity, authentification, authentication",
        ),
        "digital",
    ),
    SharedTheme(
        "ai-data",
        "Intelligence artificielle et données",
        "AI & data",
        (
            "intelligence artificielle, artificial intelligence, IA, AI",
            "apprentissage automatique, machine learning, apprentissage profond, deep learning",
            "données massives, big data, mégadonnées",
            "science des données, data science, analyse de données, data analytics",
            "traitement automatique des langues, natural language processing, TAL, NLP",
            "vision par ordinateur, computer vision",
        ),
        "digital",
    ),
    SharedTheme(
        "open-source",
        "Logiciel libre et open source",
        "Open source",
        ("logiciel libre, open source, free software, code source ouvert",),
        "software",
    ),
    SharedTheme(
        "cloud",
        "Cloud et centres de données",
        "Cloud & data centres",
        (
            "informatique en nuage, cloud computing, cloud, nuage",
            "centre de données, data centre, datacenter, data center",
            "calcul haute performance, high-performance computing, HPC",
        ),
        "digital",
    ),
    SharedTheme(
        "networks",
        "Réseaux et télécommunications",
        "Networks & telecommunications",
        (
            "réseau, network, réseaux, networks",
            "télécommunications, telecommunications, télécoms, telecoms",
            "fibre optique, optical fibre, optical fiber, très haut débit, ultra-broadband",
            "réseau défini par logiciel, software-defined networking, SDN, virtualisation réseau, NFV",
        ),
        "digital",
    ),
    SharedTheme(
        "mobile-networks",
        "Réseaux mobiles 4G/5G",
        "4G/5G mobile networks",
        (
            "5G, cinquième génération, fifth generation",
            "4G, LTE, long term evolution",
            "réseau mobile, mobile network, réseau cellulaire, cellular network",
            "réseau de test, testbed, banc d'essai, test network",
        ),
        "networks",
    ),
    SharedTheme(
        "iot",
        "Internet des objets",
        "Internet of Things",
        (
            "internet des objets, internet of things, IdO, IoT",
            "objets connectés, connected devices, capteurs connectés, connected sensors",
            "LoRa, LoRaWAN, réseau bas débit, low-power wide-area network, LPWAN",
        ),
        "networks",
    ),
    SharedTheme(
        "embedded-systems",
        "Systèmes embarqués et électronique",
        "Embedded systems & electronics",
        (
            "systèmes embarqués, embedded systems, logiciel embarqué, embedded software",
            "électronique, electronics, microélectronique, microelectronics",
            "systèmes critiques, safety-critical systems",
        ),
        "digital",
    ),
    SharedTheme(
        "optics-photonics",
        "Optique et photonique",
        "Optics & photonics",
        (
            "optique, optics, photonique, photonics",
            "laser, lasers",
            "lidar, télédétection laser, laser remote sensing",
        ),
    ),
    SharedTheme(
        "smart-cities",
        "Villes intelligentes et mobilité",
        "Smart cities & mobility",
        (
            "ville intelligente, smart city, villes intelligentes, smart cities",
            "mobilité, mobility, transport intelligent, intelligent transport",
            "véhicule autonome, autonomous vehicle, véhicule connecté, connected vehicle",
            "réseau électrique intelligent, smart grid",
        ),
    ),
    SharedTheme(
        "health-tech",
        "Santé numérique",
        "Digital health",
        (
            "santé numérique, digital health, e-santé, e-health",
            "télémédecine, telemedicine, télésanté, telehealth",
            "dispositif médical, medical device, medtech, technologies médicales",
        ),
    ),
    SharedTheme(
        "quantum",
        "Technologies quantiques",
        "Quantum technologies",
        (
            "technologies quantiques, quantum technologies, quantique, quantum",
            "informatique quantique, quantum computing, ordinateur quantique, quantum computer",
            "cryptographie post-quantique, post-quantum cryptography",
        ),
    ),
    SharedTheme(
        "industry-40",
        "Industrie du futur",
        "Industry 4.0",
        (
            "industrie du futur, industry 4.0, industrie 4.0, smart manufacturing",
            "jumeau numérique, digital twin",
            "robotique, robotics",
        ),
    ),
    SharedTheme(
        "e-learning",
        "Éducation numérique",
        "Digital learning",
        ("e-éducation, e-learning, formation en ligne, online learning, edtech",),
    ),
)

CLUSTER_THEMES: dict[str, tuple[ClusterThemeSpec, ...]] = {
    "MNC": (
        ClusterThemeSpec("services-mobiles", "Services mobiles", "mobile-services", ("software",)),
        ClusterThemeSpec("multimedia", "Multimédia", "multimedia", ("e-learning",)),
        ClusterThemeSpec("progiciels", "Progiciels", "software", ("cloud",)),
        ClusterThemeSpec(
            "paiement-securite",
            "Paiement électronique et sécurité des systèmes d'information",
            "e-payment",
            ("cybersecurity",),
        ),
    ),
    "SYSTEMATIC": (
        ClusterThemeSpec("confiance-numerique", "Confiance numérique & sécurité", "cybersecurity"),
        ClusterThemeSpec("ia-data", "IA & Data", "ai-data", ("cloud",)),
        ClusterThemeSpec("open-source", "Open Source", "open-source", ("software",)),
        ClusterThemeSpec("optique-photonique", "Optique & Photonique", "optics-photonics"),
        ClusterThemeSpec("ville-mobilite", "Ville & Mobilité durables", "smart-cities", ("iot",)),
        ClusterThemeSpec("sante", "Santé numérique", "health-tech", ("ai-data",)),
        ClusterThemeSpec("quantique", "Quantique", "quantum"),
        ClusterThemeSpec("systemes-embarques", "Systèmes embarqués & ingénierie numérique", "embedded-systems"),
        ClusterThemeSpec("industrie-futur", "Industrie du futur", "industry-40", ("embedded-systems",)),
    ),
    "IMAGES-RESEAUX": (
        ClusterThemeSpec("reseaux-infrastructures", "Réseaux & infrastructures", "networks"),
        ClusterThemeSpec("mobile-4g-5g", "Réseaux mobiles 4G/5G", "mobile-networks", ("networks",)),
        ClusterThemeSpec("contenus-usages", "Multimédia, contenus & usages", "multimedia"),
        ClusterThemeSpec("iot", "Internet des objets", "iot", ("embedded-systems",)),
        ClusterThemeSpec("cybersecurite", "Cybersécurité", "cybersecurity", ("networks",)),
        ClusterThemeSpec("cloud-datacenter", "Cloud & datacenter", "cloud"),
        ClusterThemeSpec("e-sante", "e-Santé", "health-tech"),
    ),
}

THEME_CODES: frozenset[str] = frozenset(theme.code for theme in SHARED_THEMES)


def synonym_groups() -> list[str]:
    """Every bilingual synonym group, e.g. "cybersécurité, cybersecurity, ...", for the search analyzer."""
    return [group for theme in SHARED_THEMES for group in theme.synonyms]


@transaction.atomic
def ensure_taxonomy() -> dict[str, int]:
    """Create or update the shared themes (labels, synonyms, parents). Returns code -> Theme id."""
    from matchmaking.models import Theme

    existing = {theme.code: theme for theme in Theme.objects.all()}
    for spec in SHARED_THEMES:
        theme = existing.get(spec.code) or Theme(code=spec.code)
        theme.label_fr, theme.label_en, theme.synonyms = spec.label_fr, spec.label_en, list(spec.synonyms)
        theme.parent = None
        theme.save()
        existing[spec.code] = theme
    # Parents second: a parent may come later in the tuple.
    for spec in SHARED_THEMES:
        if spec.parent:
            Theme.objects.filter(code=spec.code).update(parent=existing[spec.parent])
    return {code: theme.pk for code, theme in existing.items()}


@transaction.atomic
def ensure_cluster_themes(cluster_code: str) -> int:
    """Create or update one cluster's own themes, mapped onto the shared taxonomy. Returns how many."""
    from matchmaking.models import Cluster, ClusterTheme, Theme

    cluster = Cluster.objects.get(code=cluster_code)
    themes = {theme.code: theme for theme in Theme.objects.all()}
    specs = CLUSTER_THEMES.get(cluster_code, ())
    for spec in specs:
        ClusterTheme.objects.update_or_create(
            cluster=cluster, code=spec.code, defaults={"label": spec.label, "shared_theme": themes[spec.shared]}
        )
    return len(specs)
