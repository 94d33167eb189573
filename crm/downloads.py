"""The Content-Disposition header of every file the app sends.

One helper, `download_headers(name)`, so that a name built from data (a route, a customer, a
date) can neither break the header (a non-Latin-1 character made Werkzeug raise
UnicodeEncodeError) nor rewrite it (a quote and a semicolon in a route name made browsers save
the delivery PDF as invoice.exe). The header carries an ASCII fallback (`filename=`, from
Werkzeug's secure_filename) and the real name in UTF-8 (`filename*=`, RFC 6266 / RFC 5987,
percent-encoded the way flask.send_file does it). Part of the base: imports no feature.
"""
import unicodedata
from urllib.parse import quote

from werkzeug.http import quote_header_value
from werkzeug.utils import secure_filename

MAX_NAME = 120  # characters of a file name, its extension included
MAX_EXTENSION = 10  # ".csv", ".pdf", ".xlsx"; a longer "extension" is part of the name
DEFAULT_NAME = "download"
# Path separators, quotes, semicolons and what Windows refuses in a file name.
UNSAFE = str.maketrans(dict.fromkeys('/\\";:*?<>|', "-"))
ATTR_CHARS = "!#$&+-.^_`|~"  # RFC 5987 attr-char besides letters and digits (as in send_file)


def download_headers(filename: str, *, inline: bool = False) -> dict[str, str]:
    """{"Content-Disposition": …} for a file the browser saves as `filename` (made safe by
    `safe_filename`); `inline` shows it in the browser (a PDF) instead of downloading it."""
    name = safe_filename(filename)
    stem, extension = _split(name)
    fallback = (secure_filename(stem) or DEFAULT_NAME) + extension  # extension: ASCII already
    value = "; ".join((
        "inline" if inline else "attachment",
        f"filename={quote_header_value(fallback, allow_token=False)}",
        f"filename*=UTF-8''{quote(name, safe=ATTR_CHARS)}",
    ))
    return {"Content-Disposition": value}


def safe_filename(filename: str) -> str:
    """`filename` as a file name: NFC; white space as single spaces; other control and format
    characters (bidi overrides among them) removed; path separators, quotes, semicolons and
    the characters Windows refuses made "-"; no leading or trailing dots, dashes or spaces;
    the extension kept; at most MAX_NAME characters; DEFAULT_NAME when nothing is left."""
    name = "".join(" " if c.isspace() else c for c in unicodedata.normalize("NFC", filename)
                   if c.isspace() or unicodedata.category(c)[0] != "C")
    name = " ".join(name.translate(UNSAFE).split()).strip(" .-")
    stem, extension = _split(name)
    stem = stem[:MAX_NAME - len(extension)].rstrip(" .-") or DEFAULT_NAME
    return stem + extension


def _split(name: str) -> tuple[str, str]:
    """(stem, ".ext") when the name ends in a short extension of letters and digits."""
    stem, dot, extension = name.rpartition(".")
    if dot and stem and extension.isascii() and extension.isalnum() and (
            len(extension) < MAX_EXTENSION):
        return stem, f".{extension}"
    return name, ""
