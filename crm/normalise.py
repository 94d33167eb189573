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


EXAMPLE_EMAIL = "chef@example.com"
EMAIL_INCOMPLETE = ("That email address is not complete: it needs a name, an @ and a domain, "
                    f"like {EXAMPLE_EMAIL}.")
EMAIL_TWO_ATS = ("That email address has more than one @: it needs one, between the name and "
                 f"the domain, like {EXAMPLE_EMAIL}.")
EMAIL_ODD_AT = f"That email address has an unusual @ sign: type a plain @, as in {EXAMPLE_EMAIL}."
EMAIL_SPACE = f"That email address has a space in it: addresses have none, like {EXAMPLE_EMAIL}."
EMAIL_NO_ENDING = ("That email address is missing the end of its domain: after the @ it needs "
                   f"something like example.com, as in {EXAMPLE_EMAIL}.")
EMAIL_EXTRA_MARKS = ("That email address has quotes or brackets in it: give just the address, "
                     f"like {EXAMPLE_EMAIL}.")
EMAIL_BAD_CHARACTER = ("That email address has a character addresses cannot have: use only "
                       f"letters, digits and . - _ +, like {EXAMPLE_EMAIL}.")
# email-validator's reasons (words of its wording, lower-cased) -> what we say; the first
# match wins. The checks of the typed text in _email_problem come first, so a new wording in
# a later version costs at most the plainer hint, never the refusal.
_EMAIL_REASONS = (
    (("special-use", "reserved"),
     "That email address ends in a reserved name (such as .test or .local) that cannot "
     f"receive email: give the real address, like {EXAMPLE_EMAIL}."),
    (("too long", "so many characters"),
     "That email address is too long: an address has at most 254 characters."),
    (("top-level domain",),
     "That email address does not end in a real domain ending (like .com or .org): "
     f"check what comes after the last dot, like {EXAMPLE_EMAIL}."),
    (("period", "hyphen", "dashes"),
     "That email address has a dot or a hyphen where it cannot go (at the start or the end, "
     f"next to the @, or two in a row): write it like {EXAMPLE_EMAIL}."),
    (("quot", "display name", "bracket"), EMAIL_EXTRA_MARKS),
)


def _email_problem(text: str, reason: str) -> str:
    """What is wrong with a refused address (`reason`: email-validator's words), in plain
    words with an example, never repeating the typed value (these messages reach logs, import
    reports and the screen)."""
    local, at, domain = text.partition("@")
    if not at and ("\uff20" in text or "\ufe6b" in text):  # a full-width or small @
        return EMAIL_ODD_AT
    if not at or not local or not domain:
        return EMAIL_INCOMPLETE
    if "@" in domain:
        return EMAIL_TWO_ATS
    if any(c in text for c in '"<>()[]'):
        return EMAIL_EXTRA_MARKS
    if any(c.isspace() for c in text):
        return EMAIL_SPACE
    if "." not in domain:
        return EMAIL_NO_ENDING
    reason = reason.lower()
    for words, message in _EMAIL_REASONS:
        if any(word in reason for word in words):
            return message
    return EMAIL_BAD_CHARACTER


def email(value: str) -> str:
    """A valid, normalised email address, or ValueError saying in plain words what is wrong
    (never repeating the value)."""
    text = clean_text(value)
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(_email_problem(text, str(exc))) from None
    return result.normalized.lower()


def _phone_examples(region: str) -> tuple[str, str]:
    """An example number of the farm's region as written there and as written from abroad,
    e.g. ("(201) 555-0123", "+1 201-555-0123") for the US."""
    example = phonenumbers.example_number(region or "")
    if example is None:
        return "+1 201-555-0123", "+1 201-555-0123"
    return (phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL),
            phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


_WHY = phonenumbers.ValidationResult
_PARSE = phonenumbers.NumberParseException
# is_possible_number_with_reason's answers and parse errors (two sets of small numbers that
# overlap, so kept apart) -> what is wrong
_POSSIBLE_PROBLEMS = {_WHY.IS_POSSIBLE_LOCAL_ONLY: "local", _WHY.TOO_SHORT: "short",
                      _WHY.TOO_LONG: "long", _WHY.INVALID_COUNTRY_CODE: "country",
                      _WHY.INVALID_LENGTH: "length"}
_PARSE_PROBLEMS = {_PARSE.INVALID_COUNTRY_CODE: "country", _PARSE.NOT_A_NUMBER: "letters",
                   _PARSE.TOO_SHORT_AFTER_IDD: "short", _PARSE.TOO_SHORT_NSN: "short",
                   _PARSE.TOO_LONG: "long"}
_PHONE_PROBLEMS = {
    "local": "That number is too short: give the area code too, like {here}.",
    "short": "That number is too short: give all of it, area code included, like {here}.",
    "long": "That number has too many digits: one here looks like {here}; one abroad starts "
            "with + and its country code.",
    "country": "That number starts with a country code that does not exist: check the digits "
               "after the +, like {abroad}.",
    "length": "That number has the wrong number of digits: one here looks like {here}.",
    "letters": "That is not a phone number: give its digits, like {here}.",
    "unused": "No phone number starts like that: check the area code and the first digits, "
              "like {here}.",
}


def _phone_problem(problem: str, region: str) -> str:
    """What is wrong with a refused number, in plain words with an example of the farm's
    region; never the typed value (these messages go to logs, import reports and the screen)."""
    here, abroad = _phone_examples(region)
    return _PHONE_PROBLEMS[problem].format(here=here, abroad=abroad)


def phone(value: str, region: str) -> str:
    """The number in E.164 form, or ValueError saying in plain words what is wrong (too
    short, too long, an unknown country code...), with an example of the farm's `region`."""
    try:
        parsed = phonenumbers.parse(clean_text(value), region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(_phone_problem(_PARSE_PROBLEMS.get(exc.error_type, "letters"),
                                        region)) from None
    if not phonenumbers.is_valid_number(parsed):
        reason = phonenumbers.is_possible_number_with_reason(parsed)
        raise ValueError(_phone_problem(_POSSIBLE_PROBLEMS.get(reason, "unused"), region))
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
