"""Money: integer minor units (cents) of the farm's one currency (FARM_CURRENCY), read from
and written in the farm's locale (FARM_LOCALE) with Babel. Never a float anywhere."""
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.numbers import (
    NumberFormatError,
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
)
from flask import current_app

MAX_AMOUNT = 10**11  # minor units: a billion dollars, far past any farm's invoice


class MoneyError(ValueError):
    """What was typed is not an amount; the message says how to write one."""


def currency() -> str:
    return current_app.config["FARM_CURRENCY"]


def locale() -> str:
    return current_app.config["FARM_LOCALE"]


def precision() -> int:
    """Digits after the decimal point in the farm's currency (2 for USD, 0 for JPY)."""
    return get_currency_precision(currency())


def format_money(minor: int | None) -> str:
    """$1,234.50 for 123450 (in the farm's currency and locale); "" for None."""
    if minor is None:
        return ""
    return _writer(currency(), locale())(minor)


def _babel(minor: int, code: str, where: str) -> str:
    return format_currency(Decimal(minor).scaleb(-get_currency_precision(code)), code,
                           locale=where)


@lru_cache(maxsize=8)
def _writer(code: str, where: str):
    """How to write minor units of `code` in `where`, worked out once from the locale's
    currency pattern (its prefixes, suffixes, grouping and symbols): Babel's format_currency
    works all of that out again for every amount (a page of a customer's ledger writes about
    a hundred). The writer is checked against Babel on sample amounts when it is made, and
    Babel itself is used for a locale whose pattern it does not reproduce."""
    digits = get_currency_precision(code)
    pattern = Locale.parse(where).currency_formats["standard"]
    symbol = get_currency_symbol(code, locale=where)
    prefixes = [p.replace("¤", symbol) for p in pattern.prefix]
    suffixes = [s.replace("¤", symbol) for s in pattern.suffix]
    group, point = get_group_symbol(where), get_decimal_symbol(where)
    first, rest = pattern.grouping

    def write(minor: int) -> str:
        negative = minor < 0
        whole, cents = divmod(abs(minor), 10**digits)
        text, size = str(whole), first
        grouped = ""
        while len(text) > size:
            grouped = group + text[-size:] + grouped
            text, size = text[:-size], rest
        number = text + grouped + (f"{point}{cents:0{digits}d}" if digits else "")
        return prefixes[negative] + number + suffixes[negative]

    samples = (0, 5, -5, 99, 100, 123450, -123450, 100000, 12345678901, -99999999999)
    if all(write(m) == _babel(m, code, where) for m in samples):
        return write
    return lambda minor: _babel(minor, code, where)


def money_input(minor: int | None) -> str:
    """An amount as a form field shows it for editing: 1234.50 (no symbol, no grouping)."""
    if minor is None:
        return ""
    digits = precision()
    value = Decimal(minor).scaleb(-digits)
    return f"{value:.{digits}f}".replace(".", get_decimal_symbol(locale()))


def parse_money(text: str) -> int:
    """Minor units of an amount typed in the farm's locale ("12.50", "$1,234.50", "12"). A
    comma where the locale writes a point ("12,50" in en_US) is refused with a hint, never
    read as 1,250; more decimals than the currency has are refused, never rounded."""
    typed = (text or "").strip()
    symbol = get_currency_symbol(currency(), locale=locale())
    for noise in (symbol, currency(), "\u00a0"):
        typed = typed.replace(noise, "")
    typed = typed.strip()
    if not typed:
        raise MoneyError("Enter an amount.")
    point = get_decimal_symbol(locale())
    allowed = set("0123456789") | {point, get_group_symbol(locale())}
    try:
        if not set(typed.removeprefix("-")) <= allowed:  # no exponents, no stray letters
            raise NumberFormatError(typed)
        value = parse_decimal(typed, locale=locale(), strict=True)
    except NumberFormatError as exc:
        example = money_input(1250 * 10 ** max(precision() - 2, 0))
        hint = f" Write it like {example}" + (f", with {point!r} before the cents." if
                                                precision() else ".")
        raise MoneyError(f"{text.strip()!r} is not an amount.{hint}") from exc
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"{text.strip()!r} is not an amount.") from exc
    if not value.is_finite():
        raise MoneyError(f"{text.strip()!r} is not an amount.")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > precision():
        raise MoneyError(f"At most {precision()} decimals in {currency()}." if precision()
                         else f"{currency()} has no decimals.")
    minor = int(value.scaleb(precision()))
    if abs(minor) >= MAX_AMOUNT:
        raise MoneyError("That amount is too large.")
    return minor
