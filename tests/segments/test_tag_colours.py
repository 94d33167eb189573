"""Tag colours: a fixed palette of keys that fit the `colour` column, each a CSS class (CSP
allows no inline styles) whose text keeps a contrast of 4.5:1 or more on its ground."""
import re
from pathlib import Path

import pytest

from crm.segments.models import COLOUR_PATTERN, TAG_COLOURS

CSS = (Path(__file__).resolve().parents[2] / "crm" / "static" / "css" / "app.css").read_text()


def luminance(colour: str) -> float:
    def channel(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


@pytest.mark.parametrize("key", [*TAG_COLOURS, "plain"])
def test_each_colour_is_a_class_with_readable_text(key):
    rule = re.search(rf"\.tag-{key} \{{ background: (#[0-9a-f]{{6}}); color: (#[0-9a-f]{{6}})",
                     CSS)
    assert rule, f".tag-{key} is missing from app.css"
    light, dark = sorted((luminance(rule[1]), luminance(rule[2])), reverse=True)
    assert (light + 0.05) / (dark + 0.05) >= 4.5
    assert len(key) <= 7  # fits Tag.colour, String(7)
    if key != "plain":
        assert re.fullmatch(COLOUR_PATTERN, key)
    assert not re.fullmatch(COLOUR_PATTERN, "#ff0000")
