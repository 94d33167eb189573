import random
from datetime import datetime, timezone
from email.message import EmailMessage

import pytest

from crm.communications.eml import EmlError, parse_eml

NOT_AN_EMAIL = "This file is not an email: it has no sender (From) header."


def message(**headers) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Rosa Diaz <rosa@littlefern.example.com>")
    for name, value in headers.items():
        msg[name] = value
    return msg


def test_plain_text_email():
    msg = message(To="Sam Lee <sam@greens.example.com>, ops@greens.example.com",
                  Cc="Sam Lee <SAM@greens.example.com>, Kim <kim@greens.example.com>",
                  Subject="Order \t for   next week", Date="Tue, 03 Jun 2025 09:15:00 -0600")
    msg.set_content("Hi Sam,\n\nTwo trays of pea shoots please.\n")

    parsed = parse_eml(msg.as_bytes())

    assert parsed.sender == "rosa@littlefern.example.com"
    assert parsed.sender_name == "Rosa Diaz"
    assert parsed.recipients == ["Sam Lee <sam@greens.example.com>", "ops@greens.example.com",
                                 "Kim <kim@greens.example.com>"]
    assert parsed.subject == "Order for next week"
    assert parsed.sent_at == datetime(2025, 6, 3, 15, 15, tzinfo=timezone.utc)
    assert parsed.sent_at.utcoffset().total_seconds() == 0
    assert parsed.text == "Hi Sam,\n\nTwo trays of pea shoots please."
    assert parsed.attachments == []


def test_multipart_alternative_picks_the_plain_part():
    msg = message(Subject="Hello")
    msg.set_content("The plain version.")
    msg.add_alternative("<p>The <b>HTML</b> version.</p>", subtype="html")

    assert parse_eml(msg.as_bytes()).text == "The plain version."


def test_html_only_is_converted_to_text():
    msg = message(Subject="Newsletter")
    msg.set_content(
        "<html><head><title>Ignored</title><style>p { color: red; }</style>"
        "<script>alert('x')</script></head><body>"
        "<h1>Fresh   this week</h1><p>Basil &amp; cilantro &lt;3</p>"
        "<p>Line one<br>Line two</p><div></div><div></div><p>Caf&eacute; &#8364;5</p>"
        "</body></html>", subtype="html")

    text = parse_eml(msg.as_bytes()).text

    assert text == ("Fresh this week\n\nBasil & cilantro <3\n\nLine one\nLine two\n\n"
                    "Café €5")


def test_latin1_quoted_printable_body():
    data = (b"From: rosa@littlefern.example.com\r\n"
            b"Subject: Menu\r\n"
            b"Content-Type: text/plain; charset=ISO-8859-1\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n"
            b"\r\n"
            b"Cr=E8me br=FBl=E9e with micro-shiso =\r\nfor the caf=E9.\r\n")

    assert parse_eml(data).text == "Crème brûlée with micro-shiso for the café."


def test_base64_utf8_body_and_unknown_charset():
    msg = message(Subject="Smörgåsbord")
    msg.set_content("Größe: 20 trays", charset="utf-8", cte="base64")
    assert parse_eml(msg.as_bytes()).text == "Größe: 20 trays"

    data = (b"From: rosa@littlefern.example.com\n"
            b"Content-Type: text/plain; charset=x-unknown-42\n\nabc \xff def\n")
    assert parse_eml(data).text == "abc \ufffd def"


def test_encoded_word_subject_and_sender_name():
    data = (b"From: =?utf-8?q?Jos=C3=A9_P=C3=A9rez?= <jose@cafe.example.com>\n"
            b"To: =?iso-8859-1?q?Ren=E9e?= <renee@greens.example.com>\n"
            b"Subject: =?utf-8?q?Caf=C3=A9?=\n  order\n"
            b"\n"
            b"Hola\n")

    parsed = parse_eml(data)

    assert parsed.sender_name == "José Pérez"
    assert parsed.sender == "jose@cafe.example.com"
    assert parsed.recipients == ["Renée <renee@greens.example.com>"]
    assert parsed.subject == "Café order"


def test_attachment_is_listed_and_not_in_the_text():
    msg = message(Subject="Invoice")
    msg.set_content("Invoice attached.")
    msg.add_attachment(b"%PDF-1.4 secret-bytes", maintype="application", subtype="pdf",
                       filename="invoice-0042.pdf")
    msg.add_attachment("name,qty\nbasil,3\n", subtype="csv", filename="order.csv")

    parsed = parse_eml(msg.as_bytes())

    assert parsed.text == "Invoice attached."
    assert parsed.attachments == ["invoice-0042.pdf", "order.csv"]


def test_forwarded_message_keeps_the_outer_body():
    inner = message(From="Kim <kim@greens.example.com>", Subject="Original")
    inner.set_content("Inner text.")
    msg = message(Subject="Fwd: Original")
    msg.set_content("See below.")
    msg.add_attachment(inner)

    parsed = parse_eml(msg.as_bytes())

    assert parsed.text == "See below."
    assert parsed.sender == "rosa@littlefern.example.com"


def test_empty_file():
    with pytest.raises(EmlError, match="^The file is empty.$"):
        parse_eml(b"")


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00",
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    random.Random(7).randbytes(4096),
    bytes(range(256)) * 8,
    b"name,email,phone\nRosa Diaz,rosa@littlefern.example.com,555-0100\n",
    b"Subject: no sender here\n\nJust a note.\n",
    b"From: not an address\nSubject: hi\n\nbody\n",
], ids=["png", "pdf", "random", "all-bytes", "csv", "no-from", "from-without-at"])
def test_files_that_are_not_emails(data):
    with pytest.raises(EmlError) as caught:
        parse_eml(data)
    assert str(caught.value) == NOT_AN_EMAIL


def test_missing_or_bad_date_gives_no_sent_at():
    msg = message(Subject="No date")
    msg.set_content("Hi")
    assert parse_eml(msg.as_bytes()).sent_at is None

    data = b"From: rosa@littlefern.example.com\nDate: sometime soon\n\nHi\n"
    assert parse_eml(data).sent_at is None


def test_date_without_zone_is_utc():
    data = b"From: rosa@littlefern.example.com\nDate: Tue, 03 Jun 2025 09:15:00 -0000\n\nHi\n"
    assert parse_eml(data).sent_at == datetime(2025, 6, 3, 9, 15, tzinfo=timezone.utc)


def test_long_subject_and_text_are_truncated():
    msg = message(Subject="Microgreens " * 40)
    msg.set_content("x" * 25_000)

    parsed = parse_eml(msg.as_bytes())

    assert len(parsed.subject) == 200
    assert parsed.subject.startswith("Microgreens Microgreens")
    assert len(parsed.text) == 20_000
