"""Country names for the codes stored on organizations (ISO 3166-1 alpha-2, plus CORDIS's EL and UK).

Only what the funnel shows in words ("an organization from Morocco, SME"); an
unknown code is shown as is rather than guessed.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

COUNTRY_NAMES = {
    "AT": _("Austria"), "BE": _("Belgium"), "BG": _("Bulgaria"), "CA": _("Canada"), "CH": _("Switzerland"),
    "CI": _("Côte d'Ivoire"), "CY": _("Cyprus"), "CZ": _("Czechia"), "DE": _("Germany"), "DK": _("Denmark"),
    "DZ": _("Algeria"), "EE": _("Estonia"), "EG": _("Egypt"), "EL": _("Greece"), "ES": _("Spain"),
    "FI": _("Finland"), "FR": _("France"), "GB": _("United Kingdom"), "GR": _("Greece"), "HR": _("Croatia"),
    "HU": _("Hungary"), "IE": _("Ireland"), "IL": _("Israel"), "IS": _("Iceland"), "IT": _("Italy"),
    "LT": _("Lithuania"), "LU": _("Luxembourg"), "LV": _("Latvia"), "MA": _("Morocco"), "MT": _("Malta"),
    "NL": _("Netherlands"), "NO": _("Norway"), "NZ": _("New Zealand"), "PL": _("Poland"), "PT": _("Portugal"),
    "RO": _("Romania"), "SE": _("Sweden"), "SI": _("Slovenia"), "SK": _("Slovakia"), "SN": _("Senegal"),
    "TN": _("Tunisia"), "TR": _("Türkiye"), "UA": _("Ukraine"), "UK": _("United Kingdom"),
    "US": _("United States"),
}  # fmt: skip


def country_name(code: str) -> str:
    return str(COUNTRY_NAMES.get((code or "").upper(), code or "?"))
