"""Reading an uploaded .eml file into the parts of an email interaction.

Pure standard library: no Flask, no database. `parse_eml(data)` returns a `ParsedEmail` or raises
`EmlError`, whose message can be shown to the user as it is.

The stdlib parser's time grows much faster than its input on some shapes (one long folded
header, thousands of addresses, thousands of parts, deep multipart nesting, millions of short
lines), so a file is measured on its raw bytes first and refused past the limits below, and the
parse itself counts what it builds and stops at the same limits. With them, no file the upload
accepts (10 MB) takes more than about half a second, HTML bodies included.
"""
import codecs
import email
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

MAX_SUBJECT = 200
MAX_TEXT = 20_000
NOT_AN_EMAIL = "This file is not an email: it has no sender (From) header."
UNREADABLE = "This file could not be read as an email."

# What a file may hold, each measured against the parser's worst case for it; past any of them
# the file is refused with TOO_COMPLEX and the limit, before the parser sees it or while it runs.
MAX_HEADER_BYTES = 64 * 1024    # all headers: the email's own and its parts' together
MAX_HEADERS = 200               # header fields, in the email and in each of its parts
MAX_ADDRESSES = 500             # addresses in To and Cc together
MAX_ADDRESS_BYTES = 16 * 1024   # From, To and Cc together (their parser slows with length)
MAX_ADDRESS_LENGTH = 1000       # one address with its name (longer names cost more per byte)
MAX_MIME_FIELD = 2 * 1024       # one Content-Type, -Disposition or -Transfer-Encoding field,
MAX_MIME_BYTES = 16 * 1024      # and all of them together (each is parsed, ~3-9 µs a byte)
MAX_PARTS = 100                 # MIME parts: attachments, alternatives, sections
MAX_SECTIONS = 10               # multipart sections: each one is checked on every line below it
MAX_LINES = 200_000             # a 10 MB file of base64 attachments has about 140,000
MAX_HTML = 200_000              # characters of an HTML body turned into text (MAX_TEXT kept)
TOO_COMPLEX = "This email is too large to read here: {}. Log it by hand instead."
OVER_LIMIT = {
    "header bytes": f"its headers are over {MAX_HEADER_BYTES // 1024} KB",
    "headers": f"it has over {MAX_HEADERS} header fields",
    "addresses": f"it has over {MAX_ADDRESSES} addresses in To and Cc",
    "address bytes": f"its From, To and Cc are over {MAX_ADDRESS_BYTES // 1024} KB",
    "address length": f"an address in From, To or Cc is over {MAX_ADDRESS_LENGTH:,} characters",
    "mime fields": (f"its Content-Type and Content-Disposition headers are over "
                    f"{MAX_MIME_FIELD // 1024} KB each or {MAX_MIME_BYTES // 1024} KB in all"),
    "parts": f"it has over {MAX_PARTS} parts (attachments and sections)",
    "sections": f"it nests over {MAX_SECTIONS} multipart sections",
    "lines": f"it has over {MAX_LINES:,} lines",
}
_MIME_FIELDS = {"content-type", "content-disposition", "content-transfer-encoding"}
_ADDRESS_FIELDS = {b"from", b"to", b"cc"}
_NEWLINES = re.compile(rb"\r\n?")
# The parser's own test (email.feedparser.headerRE): a line that is none of these ends the header.
_NOT_A_HEADER_LINE = re.compile(rb"^(?!From |[\x21-\x39\x3b-\x7e]*:|[ \t])", re.MULTILINE)
_QUOTED = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]+)"|([^\s;"]+))', re.IGNORECASE)
_STRAY_LT = re.compile(r"<(?![A-Za-z/!?])")  # HTMLParser hands these over one by one
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
    """Visible text of an HTML body, without script/style, one blank line between blocks at most.

    Only the first MAX_HTML characters are read, a "<" that starts no tag is text, and markup
    left unfinished at the end is dropped: HTMLParser.close() rescans such a tail once per "<"
    in it (minutes for a body of "</" repeated), so it only runs on a tail of plain text."""
    parser = _HtmlText()
    parser.feed(_STRAY_LT.sub("&lt;", html[:MAX_HTML]))
    if "<" not in parser.rawdata:  # e.g. "… AT&T" at the very end, held back as a possible entity
        parser.close()
    lines = [line.strip() for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def too_complex(limit: str) -> EmlError:
    """The refusal for a file past one of the limits ("header bytes", "headers", …)."""
    return EmlError(TOO_COMPLEX.format(OVER_LIMIT[limit]))


def parse_eml(data: bytes) -> ParsedEmail:
    """The parts of the email in `data` (an .eml file's bytes); EmlError when it is not one."""
    if not data or not data.strip():
        raise EmlError("The file is empty.")
    header = _header_block(data)
    if b"\0" in header:
        raise EmlError(NOT_AN_EMAIL)
    _check_size(data, header)
    try:
        return _parse(email.message_from_bytes(data, policy=_LimitedPolicy(budget=_Budget())))
    except EmlError:
        raise
    except Exception as error:  # the email package can fail in many ways on odd input
        raise EmlError(UNREADABLE) from error


# -- limits: a pre-scan of the raw bytes, then counting while parsing ------------------------

def _header_block(data: bytes) -> bytes:
    """The email's own header block (newlines as \\n), found the way the parser finds it: up to
    the first line that is blank or not a header. Refused when it is over MAX_HEADER_BYTES."""
    raw = data[:MAX_HEADER_BYTES + 1]
    head = _NEWLINES.sub(b"\n", raw)
    truncated = len(data) > len(raw)
    if truncated:
        head = head[:head.rfind(b"\n") + 1]  # the last line may be cut short
    match = _NOT_A_HEADER_LINE.search(head)
    end = match.start() if match else len(head)
    if truncated and end == len(head):
        raise too_complex("header bytes")
    return head[:end]


def _check_size(data: bytes, header: bytes) -> None:
    """Refuse, from the raw bytes alone, a file past the limits on header fields, addresses,
    lines or parts. The counts are rough, and high rather than low."""
    fields = [field for field in re.sub(rb"\n[ \t]", b" ", header).split(b"\n") if field]
    if len(fields) > MAX_HEADERS:
        raise too_complex("headers")
    named = [(name.strip().lower(), value)
             for name, _, value in (field.partition(b":") for field in fields)]
    named = [(name, value) for name, value in named if name in _ADDRESS_FIELDS]
    if sum(len(value) for _, value in named) > MAX_ADDRESS_BYTES:
        raise too_complex("address bytes")
    addresses = [(name, *_rough_addresses(value)) for name, value in named]
    if sum(count for name, count, _ in addresses if name != b"from") > MAX_ADDRESSES:
        raise too_complex("addresses")
    if max((longest for *_, longest in addresses), default=0) > MAX_ADDRESS_LENGTH:
        raise too_complex("address length")
    if data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") > MAX_LINES:
        raise too_complex("lines")
    if _rough_parts(data) > MAX_PARTS:
        raise too_complex("parts")


def _rough_addresses(value: bytes) -> tuple[int, int]:
    """(about how many addresses, the longest) in a From/To/Cc value: the pieces between its
    commas, or its @ signs if there are more of those."""
    pieces = [p for p in _QUOTED.sub(b'""', value).split(b",") if p.strip()]  # "Diaz, Rosa"
    return max(len(pieces), value.count(b"@")), max(map(len, pieces), default=0)


def _rough_parts(data: bytes) -> int:
    """About how many MIME parts the file has: its boundary lines (`--boundary`, not the
    closing `--boundary--`). Lines starting with "--" are counted first, and only when there
    are many are they matched against the boundaries the file declares."""
    dashes = data.count(b"\n--") + data.startswith(b"--")
    if dashes <= MAX_PARTS:
        return dashes
    boundaries = {quoted or bare for quoted, bare in _BOUNDARY.findall(data)}
    if len(boundaries) > MAX_PARTS:
        return len(boundaries)
    if not boundaries:
        return 0
    delimiter = b"|".join(re.escape(b) for b in sorted(boundaries, key=len, reverse=True))
    return sum(1 for _ in re.finditer(rb"^--(?:" + delimiter + rb")(?!--)", data, re.MULTILINE))


class _Budget:
    """What one parse has built so far; EmlError as soon as it passes a limit. The pre-scan
    reads only the email's own header and guesses the parts; this counts every part exactly
    (a message/delivery-status part makes parts without boundaries, for one)."""

    def __init__(self):
        self.parts = -1  # the email itself is not one of its parts
        self.sections = self.header_bytes = self.mime_bytes = self.fields = 0
        self.parsed = {}  # (name, raw value) -> header object, see _LimitedPolicy

    def new_part(self, policy):
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise too_complex("parts")
        self.fields = 0  # the parser reads this part's headers next
        return EmailMessage(policy=policy)

    def header(self, name: str, value: str):
        self.fields += 1
        self.header_bytes += len(name) + len(value)
        if self.fields > MAX_HEADERS:
            raise too_complex("headers")
        if self.header_bytes > MAX_HEADER_BYTES:
            raise too_complex("header bytes")
        name = name.lower()
        if name in _MIME_FIELDS:
            self.mime_bytes += len(value)
            if len(value) > MAX_MIME_FIELD or self.mime_bytes > MAX_MIME_BYTES:
                raise too_complex("mime fields")
        if name == "content-type" and "multipart" in value.lower():
            self.sections += 1
            if self.sections > MAX_SECTIONS:
                raise too_complex("sections")


class _LimitedPolicy(EmailPolicy):
    """policy.default, counting into a `_Budget` the parts and headers the parser makes, and
    parsing each header once: the email package parses a part's Content-Type again on every
    look (a dozen per part between the parser, get_body and walk)."""

    budget = None

    def __init__(self, **kw):
        super().__init__(message_factory=kw["budget"].new_part, **kw)

    def header_source_parse(self, sourcelines):
        name, value = super().header_source_parse(sourcelines)
        self.budget.header(name, value)
        return name, value

    def header_fetch_parse(self, name, value):
        key = (name, value)
        if key not in self.budget.parsed:
            self.budget.parsed[key] = super().header_fetch_parse(name, value)
        return self.budget.parsed[key]


# -- reading the parsed email -----------------------------------------------------------------

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
