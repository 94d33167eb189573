"""One format for every email, phone and name that enters the database."""
import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email


def clean_text(value: str | None) -> str:
    """Trim and collapse runs of white space."""
    return re.sub(r"\s+", " ", value or "").strip()


def person_name(value: str | None) -> str:
    """Trimmed; all-lower or all-upper input is title-cased ("mARIA" is left as typed)."""
    value = clean_text(value)
    if value and (value.islower() or value.isupper()):
        value = value.title()
    return value


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
