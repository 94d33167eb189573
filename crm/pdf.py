"""Printed documents as PDF (WeasyPrint): delivery sheets, invoices, statements; and the PDFs
this process made lately. Part of the base: imports no feature.

A PDF is a function of its document's HTML, so the HTML's SHA-256 names it: the same document
printed again (a second copy, another dispatcher, the PDF after the page) is the PDF already
made, and any change to any stop or line, or to what the person asking may see, is other HTML
and a new render. Nothing kept can be stale or reach the wrong person: a request gets a kept PDF
only by first building the very same HTML itself, from the database, under its own permissions.

Bounded: the last SHEET_PDF_CACHE_ENTRIES documents, each kept SHEET_PDF_CACHE_SECONDS (the
documents carry names, addresses, phone numbers and amounts: they do not linger), in this
process only (each gunicorn worker has its own; nothing is written anywhere). 0 seconds: no
keeping. (The settings kept their first user's name: the delivery sheets.)
"""
import gc
import hashlib
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from flask import current_app
from markupsafe import Markup

from crm.downloads import download_headers

_kept: OrderedDict = OrderedDict()  # sha256 of the HTML -> (monotonic time made, PDF bytes)
_lock = threading.Lock()


def document_pdf(html: str) -> tuple[bytes, bool]:
    """(the PDF of this document HTML, whether it was kept from an earlier request). The HTML
    is a whole document with its stylesheet inlined and absolute links (nothing is fetched)."""
    seconds = current_app.config["SHEET_PDF_CACHE_SECONDS"]
    entries = current_app.config["SHEET_PDF_CACHE_ENTRIES"]
    key = hashlib.sha256(html.encode()).hexdigest()
    now = time.monotonic()
    with _lock:
        for name in [name for name, (made, _) in _kept.items() if now - made >= seconds]:
            del _kept[name]
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key][1], True
    pdf = render(html)
    if seconds > 0 and entries > 0:
        with _lock:
            _kept[key] = (now, pdf)
            while len(_kept) > entries:
                _kept.popitem(last=False)
    return pdf, False


def render(html: str) -> bytes:
    from weasyprint import HTML

    with _gc_paused():  # WeasyPrint allocates millions of objects; collecting midway costs ~30 %
        return HTML(string=html).write_pdf()


def forget():
    """Drop every kept PDF (tests)."""
    with _lock:
        _kept.clear()


@contextmanager
def _gc_paused():
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@lru_cache(maxsize=8)
def stylesheet(static_folder: str, name: str) -> Markup:
    """One of our own stylesheets (static/css/`name`), to inline into a document's HTML."""
    return Markup((Path(static_folder) / "css" / name).read_text())


def pdf_response(html: str, filename: str):
    """The Flask response of a document's PDF: shown in the browser, saved as `filename`
    (which must carry no personal data: a number, a date); X-Cache says whether it was kept."""
    pdf, kept = document_pdf(html)
    return pdf, 200, {"Content-Type": "application/pdf",
                      **download_headers(filename, inline=True),
                      "X-Cache": "HIT" if kept else "MISS"}
