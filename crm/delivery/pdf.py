"""The delivery sheets as PDF (WeasyPrint), and the PDFs this process made lately.

A PDF is a function of its document's HTML, so the HTML's SHA-256 names it: the same sheet
printed again (a second copy, another dispatcher, the PDF after the page) is the PDF already
made, and any change to any stop, or to what the person asking may see, is other HTML and a new
render. Nothing kept can be stale or reach the wrong person: a request gets a kept PDF only by
first building the very same HTML itself, from the database, under its own permissions.

Bounded: the last SHEET_PDF_CACHE_ENTRIES documents, each kept SHEET_PDF_CACHE_SECONDS (the
sheets carry names, addresses and phone numbers: they do not linger), in this process only
(each gunicorn worker has its own; nothing is written anywhere). 0 seconds: no keeping.
"""
import gc
import hashlib
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager

from flask import current_app

_kept: OrderedDict = OrderedDict()  # sha256 of the HTML -> (monotonic time made, PDF bytes)
_lock = threading.Lock()


def sheet_pdf(html: str) -> tuple[bytes, bool]:
    """(the PDF of this document HTML, whether it was kept from an earlier request)."""
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
