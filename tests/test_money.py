"""Amounts are written exactly as Babel writes them, in any currency and locale a farm may
set, however fast the writer that does it every day."""
import random

import pytest

from crm.money import _babel, _writer, format_money

PLACES = [("USD", "en_US"), ("EUR", "de_DE"), ("EUR", "fr_FR"), ("INR", "en_IN"),
          ("JPY", "ja_JP"), ("EUR", "nl_NL"), ("CHF", "de_CH"), ("CAD", "en_CA"),
          ("GBP", "en_GB"), ("EGP", "ar_EG"), ("BHD", "ar_BH"), ("SEK", "sv_SE")]


@pytest.mark.parametrize("code, where", PLACES)
def test_every_amount_is_written_as_babel_writes_it(code, where):
    rng = random.Random(code + where)
    amounts = [0, 1, -1, 10, 999, 1000, -1000, 10**6, -(10**9) + 1, 10**11 - 1]
    amounts += [rng.randint(-(10**11), 10**11) for _ in range(300)]
    write = _writer(code, where)
    assert [write(m) for m in amounts] == [_babel(m, code, where) for m in amounts]


def test_the_farms_amounts_in_its_own_currency(app_ctx):
    assert format_money(123450) == "$1,234.50"
    assert format_money(-5) == "-$0.05"
    assert format_money(None) == ""
