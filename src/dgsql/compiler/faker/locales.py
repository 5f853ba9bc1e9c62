"""Country codes and locale strings → the Faker locale whose vocabulary a row uses.

``locale`` and the values of a ``locale_from`` column go through :func:`to_locale`:
a country code (``US``, ``UK``, ``cz``) maps through :data:`COUNTRY_LOCALES`; a
full locale (``pt_BR``, ``de-AT``) is taken as is when Faker has it; anything
else becomes :data:`DEFAULT_LOCALE`.

>>> to_locale("UK"), to_locale("cz"), to_locale("pt-br"), to_locale("Mars")
('en_GB', 'cs_CZ', 'pt_BR', 'en_US')
"""

from __future__ import annotations

from functools import cache

DEFAULT_LOCALE = "en_US"

COUNTRY_LOCALES: dict[str, str] = {
    "US": "en_US",
    "UK": "en_GB",
    "GB": "en_GB",
    "IE": "en_IE",
    "DE": "de_DE",
    "AT": "de_AT",
    "CH": "de_CH",
    "FR": "fr_FR",
    "BE": "nl_BE",
    "NL": "nl_NL",
    "CZ": "cs_CZ",
    "SK": "sk_SK",
    "PL": "pl_PL",
    "HU": "hu_HU",
    "RO": "ro_RO",
    "ES": "es_ES",
    "IT": "it_IT",
    "PT": "pt_PT",
    "BR": "pt_BR",
    "MX": "es_MX",
    "AR": "es_AR",
    "CO": "es_CO",
    "CL": "es_CL",
    "JP": "ja_JP",
    "CN": "zh_CN",
    "TW": "zh_TW",
    "KR": "ko_KR",
    "IN": "en_IN",
    "CA": "en_CA",
    "AU": "en_AU",
    "NZ": "en_NZ",
    "SE": "sv_SE",
    "NO": "no_NO",
    "DK": "da_DK",
    "FI": "fi_FI",
    "TR": "tr_TR",
    "RU": "ru_RU",
    "UA": "uk_UA",
    "GR": "el_GR",
    "IL": "he_IL",
    "TH": "th_TH",
    "VN": "vi_VN",
    "ID": "id_ID",
    "PH": "en_PH",
}
"Country code (ISO 3166 alpha-2, plus UK) → Faker locale. Also the run-time list for untraceable columns."


@cache
def _by_upper() -> dict[str, str]:
    """Faker's locales by their upper-case spelling (Faker is imported on first use)."""
    from faker.config import AVAILABLE_LOCALES

    return {loc.upper(): loc for loc in AVAILABLE_LOCALES}


def to_locale(value: object) -> str:
    """The Faker locale for a country code or locale string; :data:`DEFAULT_LOCALE` when unknown."""
    if value is None or isinstance(value, bool):
        return DEFAULT_LOCALE
    key = str(value).strip().replace("-", "_").upper()
    if key in COUNTRY_LOCALES:
        return COUNTRY_LOCALES[key]
    return _by_upper().get(key, DEFAULT_LOCALE)


def runtime_keys() -> dict[str, str]:
    """Every key a run-time mapping recognises (upper case) → locale, for columns we cannot trace."""
    keys = {code: loc for code, loc in COUNTRY_LOCALES.items()}
    supported = set(COUNTRY_LOCALES.values())
    for loc in sorted(supported):
        keys[loc.upper()] = loc
    return keys


def runtime_locales() -> list[str]:
    """The locales embedded when a locale column's values are unknown at compile time."""
    return list(dict.fromkeys([DEFAULT_LOCALE, *COUNTRY_LOCALES.values()]))
