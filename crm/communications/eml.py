"""Reading an uploaded .eml file into the parts of an email interaction.

Pure standard library: no Flask, no database. `parse_eml(data)` returns a `ParsedEmail` or raises
`EmlError`, whose message can be shown to the user as it is.
"""
import codecs
import email
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

MAX_SUBJECT = 200
MAX_TEXT = 20_000
NOT_AN_EMAIL = "This file is not an email: it has no sender (From) header."
UNREADABLE = "This file could not be read as an email."
SKIPPED_TAGS = {"script", "style", "title"}
BLOCK_TAGS = set("address article blockquote br dd div dl dt footer h1 h2 h3 h4 h5 h6 header hr "
                 "li ol p pre section table td th tr ul".split())


class EmlError(ValueError):
    """The file is not an email we can read; str(error) is a clear message for the user."""


@dataclass(frozen=True)
class ParsedEmail:
    sender: str               # the From address
    sender_name: str          # its display name, or ""
    recipients: list[str]     # To + Cc as "Name <addr>" or "addr", in order, without duplicates
    subject: str              # "" when none
    sent_at: datetime | None  # UTC, from the Date header
    text: str                 # the plain-text body (HTML-only mail converted to text)
    attachments: list[str]    # file names only: attachments are not kept


class _HtmlText(HTMLParser):
    """Collects the visible text of an HTML body; block tags become line breaks."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCK_TAGS and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, without script/style, one blank line between blocks at most."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def parse_eml(data: bytes) -> ParsedEmail:
    """The parts of the email in `data` (an .eml file's bytes); EmlError when it is not one."""
    if not data or not data.strip():
        raise EmlError("The file is empty.")
    if b"\0" in re.split(rb"\r?\n\r?\n", data, maxsplit=1)[0]:
        raise EmlError(NOT_AN_EMAIL)
    try:
        return _parse(email.message_from_bytes(data, policy=policy.default))
    except EmlError:
        raise
    except Exception as error:  # the email package can fail in many ways on odd input
        raise EmlError(UNREADABLE) from error


def _parse(message) -> ParsedEmail:
    senders = [a for a in _addresses(message, "from") if "@" in a.addr_spec]
    if not senders:
        raise EmlError(NOT_AN_EMAIL)
    recipients, seen = [], set()
    for address in _addresses(message, "to") + _addresses(message, "cc"):
        if address.addr_spec and address.addr_spec.lower() not in seen:
            seen.add(address.addr_spec.lower())
            name = address.display_name
            recipients.append(f"{name} <{address.addr_spec}>" if name else address.addr_spec)
    body = message.get_body(preferencelist=("plain", "html"))
    text = _decode(body) if body is not None else ""
    if body is not None and body.get_content_subtype() == "html":
        text = html_to_text(text)
    attachments = [part.get_filename() or "unnamed attachment" for part in message.walk()
                   if part is not body and (part.get_filename() or part.is_attachment())]
    subject = " ".join(str(message["subject"] or "").split())[:MAX_SUBJECT]
    return ParsedEmail(sender=senders[0].addr_spec, sender_name=senders[0].display_name or "",
                       recipients=recipients, subject=subject, sent_at=_sent_at(message["date"]),
                       text=text.strip()[:MAX_TEXT].rstrip(), attachments=attachments)


def _addresses(message, name: str) -> list:
    return [address for header in message.get_all(name, []) for address in header.addresses]


def _decode(part) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        if codecs.lookup(charset).name == "iso8859-1":  # mislabelled windows-1252 is common
            charset = "cp1252"
        text = payload.decode(charset, errors="replace")
    except (LookupError, ValueError):  # unknown charset, or a codec that is not for text
        text = payload.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _sent_at(header) -> datetime | None:
    if not header:
        return None
    try:
        sent = parsedate_to_datetime(str(header))
        return (sent if sent.tzinfo else sent.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return None
