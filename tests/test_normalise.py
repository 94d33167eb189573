"""crm.normalise: what people are told when an email or phone is refused: plain words, an
example of what is expected (phones in the farm's region), never the value they typed."""
import re

import pytest

from crm import normalise

INCOMPLETE = ("That email address is not complete: it needs a name, an @ and a domain, like "
              "chef@example.com.")


@pytest.mark.parametrize("typed, message", [
    ("chef", INCOMPLETE),
    ("chef@", INCOMPLETE),
    ("@blueheron.example.com", INCOMPLETE),
    ("", INCOMPLETE),
    ("chef@@blueheron.com", "That email address has more than one @: it needs one, between the "
                            "name and the domain, like chef@example.com."),
    ("chef@blue heron.com", "That email address has a space in it: addresses have none, like "
                            "chef@example.com."),
    ("chef@blueheron", "That email address is missing the end of its domain: after the @ it "
                       "needs something like example.com, as in chef@example.com."),
    ("chef@blueheron..com", "That email address has a dot or a hyphen where it cannot go (at the "
                            "start or the end, next to the @, or two in a row): write it like "
                            "chef@example.com."),
    ("chef.@blueheron.com", "a dot or a hyphen where it cannot go"),
    ("chef@blueheron.test", "That email address ends in a reserved name (such as .test or "
                            ".local) that cannot receive email"),
    ("Chef <chef@blueheron.com>", "That email address has quotes or brackets in it: give just "
                                  "the address, like chef@example.com."),
    ("chef＠blueheron.com", "That email address has an unusual @ sign: type a plain @"),
    ("chef@blue_heron.com", "That email address has a character addresses cannot have: use only "
                            "letters, digits and . - _ +, like chef@example.com."),
    ("chef@blueheron.123", "does not end in a real domain ending (like .com or .org)"),
    ("c" * 250 + "@blueheron.com", "That email address is too long: an address has at most 254 "
                                   "characters."),
])
def test_a_refused_email_is_explained_in_plain_words(typed, message):
    with pytest.raises(ValueError) as refused:
        normalise.email(typed)
    said = str(refused.value)
    assert message in said
    assert "@-sign" not in said and "invalid characters" not in said  # not the library's words
    for part in set(re.split(r"[@ .<>]+", typed)) - {"", "com", "chef", "example", "test"}:
        assert part not in said, f"the message repeats what was typed: {part!r}"


def test_good_emails_are_still_normalised():
    assert normalise.email("  Chef@BlueHeron.COM ") == "chef@blueheron.com"
    assert normalise.email("chef@café.fr") == "chef@café.fr"


@pytest.mark.parametrize("typed, region, message", [
    ("555-0142", "US", "That number is too short: give the area code too, like (201) 555-0123."),
    ("7946 0958", "GB", "That number is too short: give the area code too, like 0121 234 5678."),
    ("12", "US", "That number is too short: give all of it, area code included, like "
                 "(201) 555-0123."),
    ("312 555 01429", "US", "That number has too many digits: one here looks like "
                            "(201) 555-0123; one abroad starts with + and its country code."),
    ("+999 1234567", "US", "That number starts with a country code that does not exist: check "
                           "the digits after the +, like +1 201-555-0123."),
    ("+1 555 000 0000", "US", "No phone number starts like that: check the area code and the "
                              "first digits, like (201) 555-0123."),
    ("call the kitchen", "US", "That is not a phone number: give its digits, like "
                               "(201) 555-0123."),
    ("(416) 555-01", "CA", "That number is too short: give all of it, area code included, like "
                           "(506) 234-5678."),
])
def test_a_refused_phone_says_why_with_an_example_of_the_farms_region(typed, region, message):
    with pytest.raises(ValueError) as refused:
        normalise.phone(typed, region)
    said = str(refused.value)
    assert message in said
    assert "not valid for its country" not in said
    digits = re.sub(r"\D", "", typed)
    assert len(digits) < 5 or digits not in re.sub(r"\D", "", said)  # not the typed number


def test_good_phones_are_still_e164():
    assert normalise.phone("(312) 555-0142", "US") == "+13125550142"
    assert normalise.phone("+44 20 7946 0958", "US") == "+442079460958"
