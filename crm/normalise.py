"""One format for every email, phone and name that enters the database."""
import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email


def clean_text(value: str | None) -> str:
    """Trim and collapse runs of white space."""
    return re.sub(r"\s+", " ", value or "").strip()


PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le",
             "dos", "das", "ter", "ten", "bin", "al"}


def _cased_word(word: str, first: bool) -> str:
    if not first and word in PARTICLES:
        return word
    word = "-".join(part[:1].upper() + part[1:] for part in word.split("-"))
    word = "'".join(part[:1].upper() + part[1:] for part in word.split("'"))  # O'Brien
    if word.startswith("Mc") and len(word) > 2:
        word = "Mc" + word[2].upper() + word[3:]
    return word


def person_name(value: str | None, surname: bool = False) -> str:
    """Trimmed; each all-lower or all-upper word is cased ("JEAN-LUC o'brien" -> "Jean-Luc
    O'Brien", "maria van der berg" -> "Maria van der Berg", "mcdonald" -> "McDonald").
    A word in mixed case ("DeShawn", "mARIA") is left as typed. A `surname` may start with a
    particle ("van der Berg")."""
    words = clean_text(value).split(" ")
    return " ".join(_cased_word(w.lower(), i == 0 and not surname)
                    if w.islower() or w.isupper() else w
                    for i, w in enumerate(words))


def email(value: str) -> str:
    """A valid, normalised email address, or ValueError saying what is wrong."""
    try:
        result = validate_email(clean_text(value), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return result.normalized.lower()


def phone(value: str, region: str) -> str:
    """The number in E.164 form, or ValueError."""
    try:
        parsed = phonenumbers.parse(clean_text(value), region)
    except phonenumbers.NumberParseException:
        raise ValueError("That is not a phone number.") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("That phone number is not valid for its country.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str, region: str) -> str:
    """National format for numbers of the farm's country, international otherwise."""
    parsed = phonenumbers.parse(e164, None)
    if phonenumbers.region_code_for_number(parsed) == region:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


POSTAL_PATTERNS = {
    "US": (r"^\d{5}(-\d{4})?$", "a US ZIP code looks like 60614 or 60614-1234"),
    "CA": (r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$", "a Canadian postal code looks like K1A 0B1"),
    "GB": (r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$", "a UK postcode looks like SW1A 1AA"),
}


def postal_code(value: str, country: str) -> str:
    value = clean_text(value).upper()
    pattern = POSTAL_PATTERNS.get(country)
    if value and pattern and not re.match(pattern[0], value):
        raise ValueError(f"Not a postal code for {country}: {pattern[1]}.")
    return value


US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin",
    "WY": "Wyoming", "PR": "Puerto Rico", "GU": "Guam", "VI": "U.S. Virgin Islands",
}
CA_PROVINCES = {
    "AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador", "NS": "Nova Scotia", "NT": "Northwest Territories",
    "NU": "Nunavut", "ON": "Ontario", "PE": "Prince Edward Island", "QC": "Quebec",
    "SK": "Saskatchewan", "YT": "Yukon",
}
REGIONS = {"US": US_STATES, "CA": CA_PROVINCES}


def region(value: str | None, country: str) -> str:
    """A US state or Canadian province as its two-letter code ("illinois", "Ill." is not
    guessed: "IL" or "Illinois"); other countries' regions trimmed as typed."""
    value = clean_text(value)
    codes = REGIONS.get(country)
    if not value or codes is None:
        return value
    upper = value.upper().replace(".", "")
    if upper in codes:
        return upper
    by_name = {name.upper(): code for code, name in codes.items()}
    if upper in by_name:
        return by_name[upper]
    kind = "state" if country == "US" else "province"
    raise ValueError(f"Not a {kind} of {country}: use its two-letter code, e.g. "
                     f"{'IL' if country == 'US' else 'ON'}.")
