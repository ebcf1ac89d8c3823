"""A small gazetteer: the cities of the three clusters' members, for "within N km of <city>".

Keys are folded (lowercase, no accents) so "Fès", "fes" and "FES" are one city.
Organizations without coordinates are placed at their city's centre when the
city is listed here.
"""

from __future__ import annotations

import functools
import unicodedata

CITIES: dict[str, tuple[str, float, float]] = {
    # key: (display name, latitude, longitude)
    "casablanca": ("Casablanca", 33.5731, -7.5898),
    "rabat": ("Rabat", 34.0209, -6.8416),
    "marrakech": ("Marrakech", 31.6295, -7.9811),
    "tanger": ("Tanger", 35.7595, -5.8340),
    "fes": ("Fès", 34.0331, -5.0003),
    "agadir": ("Agadir", 30.4278, -9.5981),
    "kenitra": ("Kénitra", 34.2610, -6.5802),
    "meknes": ("Meknès", 33.8935, -5.5473),
    "oujda": ("Oujda", 34.6814, -1.9086),
    "tetouan": ("Tétouan", 35.5785, -5.3684),
    "paris": ("Paris", 48.8566, 2.3522),
    "saclay": ("Saclay", 48.7314, 2.1706),
    "palaiseau": ("Palaiseau", 48.7145, 2.2457),
    "massy": ("Massy", 48.7309, 2.2713),
    "boulogne-billancourt": ("Boulogne-Billancourt", 48.8397, 2.2399),
    "versailles": ("Versailles", 48.8049, 2.1204),
    "evry": ("Évry", 48.6290, 2.4410),
    "nanterre": ("Nanterre", 48.8924, 2.2071),
    "saint-denis": ("Saint-Denis", 48.9362, 2.3574),
    "rennes": ("Rennes", 48.1173, -1.6778),
    "brest": ("Brest", 48.3904, -4.4861),
    "lannion": ("Lannion", 48.7326, -3.4566),
    "vannes": ("Vannes", 47.6582, -2.7608),
    "quimper": ("Quimper", 47.9960, -4.1024),
    "lorient": ("Lorient", 47.7483, -3.3700),
    "saint-brieuc": ("Saint-Brieuc", 48.5136, -2.7603),
    "nantes": ("Nantes", 47.2184, -1.5536),
    "lyon": ("Lyon", 45.7640, 4.8357),
    "toulouse": ("Toulouse", 43.6047, 1.4442),
    "marseille": ("Marseille", 43.2965, 5.3698),
    "lille": ("Lille", 50.6292, 3.0573),
    "bordeaux": ("Bordeaux", 44.8378, -0.5792),
    "grenoble": ("Grenoble", 45.1885, 5.7245),
    "nice": ("Nice", 43.7102, 7.2620),
}


@functools.lru_cache(maxsize=4096)  # a rebuild asks for the same few cities and regions 100,000 times
def city_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name or "")
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "-".join(ascii_only.lower().replace("'", " ").split())


def city_location(name: str) -> dict[str, float] | None:
    found = CITIES.get(city_key(name))
    if found is None:
        return None
    return {"lat": found[1], "lon": found[2]}


def city_choices() -> list[tuple[str, str]]:
    return sorted(((key, label) for key, (label, _lat, _lon) in CITIES.items()), key=lambda item: item[1])


# Regions as clusters name them, with their other-language names, so a search
# for "Brittany" finds members of a cluster whose region is "Bretagne".
REGION_ALIASES: dict[str, tuple[str, ...]] = {
    "bretagne": ("Brittany",),
    "ile-de-france": ("Paris Region", "Paris area", "région parisienne"),
    "casablanca-settat": ("Casablanca",),
    "rabat-sale-kenitra": ("Rabat",),
    "grand-casablanca": ("Casablanca",),
    "maroc": ("Morocco",),
}


def region_aliases(region: str) -> tuple[str, ...]:
    return REGION_ALIASES.get(city_key(region), ())
