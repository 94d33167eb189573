"""download_headers: one Content-Disposition for every download, whatever the name holds."""
import re
from email.message import EmailMessage, Message
from urllib.parse import unquote

import pytest
from werkzeug.http import parse_options_header

from crm.downloads import MAX_NAME, download_headers, safe_filename

HOSTILE = "a\";filename*=UTF-8''invoice.exe;x=\""


def disposition(name, **kw):
    value = download_headers(name, **kw)["Content-Disposition"]
    value.encode("latin-1")  # what Werkzeug does when it writes the header
    return value


def parts(value):
    """(kind, ASCII fallback, UTF-8 name) as the header spells them."""
    match = re.fullmatch(r"(attachment|inline); filename=\"([^\"]*)\"; filename\*=UTF-8''(\S+)",
                         value)
    assert match, value
    kind, fallback, encoded = match.groups()
    return kind, fallback, unquote(encoded, errors="strict")


def readers(value):
    """The file name as Werkzeug, the legacy email package and the current one read it."""
    legacy, current = Message(), EmailMessage()
    legacy["Content-Disposition"] = current["Content-Disposition"] = value
    return parse_options_header(value)[1]["filename"], legacy.get_filename(), (
        current.get_filename())


def test_a_non_latin_name_keeps_its_characters_and_gets_an_ascii_fallback():
    kind, fallback, name = parts(disposition("delivery-2026-11-24-east-–-loop.pdf"))
    assert kind == "attachment"
    assert name == "delivery-2026-11-24-east-–-loop.pdf"
    assert fallback == "delivery-2026-11-24-east--loop.pdf"
    assert readers(disposition("Доставка.pdf"))[0] == "Доставка.pdf"
    assert parts(disposition("Доставка.pdf"))[1] == "download.pdf"


def test_a_name_cannot_add_parameters_or_change_the_saved_name():
    value = disposition(f"delivery-{HOSTILE}.pdf")
    assert value.count(";") == 2 and value.count('"') == 2
    _, fallback, _ = parts(value)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", fallback)
    for read in readers(value):
        assert read.endswith(".pdf") and read != "invoice.exe" and '"' not in read
    _, params = parse_options_header(value)
    assert set(params) == {"filename"}


@pytest.mark.parametrize("raw, saved", [
    ("../../etc/passwd.csv", "etc-passwd.csv"),
    ("C:\\Users\\x\\report.csv", "C--Users-x-report.csv"),
    ("a\r\nSet-Cookie: x=1.csv", "a Set-Cookie- x=1.csv"),
    ("\u202egpj.exe.pdf", "gpj.exe.pdf"),  # a right-to-left override
    ("tab\there.csv", "tab here.csv"),
    ("O'Brien 100%.csv", "O'Brien 100%.csv"),
    ("...", "download"),
    ("", "download"),
    (".csv", "csv"),
    ("Cafe\u0301.csv", "Café.csv"),  # NFC
])
def test_names_are_made_safe(raw, saved):
    assert safe_filename(raw) == saved
    assert parts(disposition(raw))[2] == saved


def test_long_names_are_cut_and_keep_their_extension():
    name = safe_filename("route-" + "é" * 500 + ".pdf")
    assert len(name) == MAX_NAME and name.endswith("é.pdf")
    assert safe_filename("x." + "y" * 40) == "x." + "y" * 40  # not an extension: cut as a name
    assert len(safe_filename("x." + "y" * 400)) == MAX_NAME


def test_inline_for_files_shown_in_the_browser():
    kind, fallback, name = parts(disposition("sheet.pdf", inline=True))
    assert (kind, fallback, name) == ("inline", "sheet.pdf", "sheet.pdf")
