"""The pages of the import of open invoices and opening balances (crm.credit.importing):
upload, preview, import, report. Linked from the farm's Credit page.

Nothing is stored between the steps: the contacts import keeps its uploads and checked rows
in tables of its own, and this import is small enough not to need any. The preview carries
the file, compressed and sealed for the signed-in user (crm.security.encryption.seal: AES-GCM
bound to the actor, 8 hours), in its Import form; the import checks it again under the
credit accounts' locks and writes it in one transaction; its page carries the report the same
way for the download. So a reload or a second click of Import imports nothing more (the rows
are already imported), and no file sits on the server after the request.
"""
import base64
import zlib

from flask import Response, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select

from crm.common import accepts_uploads
from crm.credit import bp, importing
from crm.customers.models import Customer
from crm.downloads import download_headers
from crm.extensions import db
from crm.security.encryption import seal, unseal
from crm.security.permissions import requires
from crm.web import wants_fragment

PREVIEW_ROWS = 100  # rows shown on the preview (errors first); the check's CSV has them all
PAGE = "credit/import.html"


class CreditImportForm(FlaskForm):
    file = FileField(
        "CSV file", validators=[FileRequired("Choose a CSV file.")],
        description=f"{importing.MAX_BYTES // 1024} KB and {importing.MAX_ROWS:,} rows at "
                    "most. Comma-, semicolon- or tab-separated, UTF-8 or Latin-1; the first line "
                    "names the columns.")


def _pack(text: str) -> str:
    """Text sealed for the signed-in user, compressed first (a form field has 500 KB)."""
    packed = base64.b64encode(zlib.compress(text.encode(), 9)).decode()
    return seal(packed, actor=current_user.actor)


def _unpack(token: str) -> str | None:
    """What _pack() sealed for this user, or None (expired, tampered, another user's)."""
    packed = unseal(token or "", actor=current_user.actor, max_length=2 * importing.MAX_BYTES)
    if packed is None:
        return None
    try:
        return zlib.decompress(base64.b64decode(packed)).decode()  # ours: sealed
    except (ValueError, zlib.error):
        return None


def _page(partial: str, status: int = 200, **context):
    """The import's component for htmx, else the page holding it."""
    if wants_fragment():
        return render_template(partial, **context), status
    return render_template(PAGE, partial=partial, **context), status


def _upload_page(form=None, status=200, error=None):
    return _page("credit/_import_form.html", status, form=form or CreditImportForm(),
                 error=error, columns=importing.COLUMNS)


def _shown(plan):
    """The rows the page lists: errors first, then by line."""
    return sorted(plan.rows, key=lambda r: (r.valid, r.line))[:PREVIEW_ROWS]


def _customers(plan) -> dict:
    """{id: customer} of the rows' customers, to show their names beside the file's words."""
    ids = {r.customer_id for r in plan.rows if r.customer_id}
    if not ids:
        return {}
    return {c.id: c for c in db.session.scalars(select(Customer).where(Customer.id.in_(ids)))}


def _preview(plan, filename, status=200, notice=None):
    return _page("credit/_import_preview.html", status, plan=plan, counts=plan.counts,
                 totals=plan.totals, parsed=plan.parsed, shown=_shown(plan),
                 customers=_customers(plan), filename=filename, notice=notice,
                 sealed=_pack(plan.parsed.text),
                 labels=importing.LABELS,
                 preview_rows=PREVIEW_ROWS)


def _filename() -> str:
    return (request.form.get("filename") or "import.csv")[:120]


@bp.route("/credit/import", methods=["GET", "POST"])
@requires("credit.manage")
@accepts_uploads(importing.MAX_BYTES + 2**16)  # the file plus the multipart envelope
def import_upload():
    """Upload a CSV of open invoices and opening balances; every row is checked and shown
    before anything is written."""
    form = CreditImportForm()
    if not form.validate_on_submit():
        return _upload_page(form, 422 if request.method == "POST" else 200)
    upload = form.file.data
    try:
        parsed = importing.read(upload.read(importing.MAX_BYTES + 1))
    except importing.ImportFileError as exc:
        form.file.errors.append(str(exc))
        return _upload_page(form, 422)
    plan = importing.check(parsed)
    return _preview(plan, (upload.filename or "import.csv")[:120])


@bp.post("/credit/import/run")
@requires("credit.manage")
def import_run():
    """Import the previewed file: checked again (the books may have moved on), written in one
    transaction through the credit services, or not at all."""
    text = _unpack(request.form.get("sealed", ""))
    if text is None:
        return _upload_page(status=422, error="This preview has expired (after 8 hours) or was "
                                              "made for someone else: upload the file again.")
    plan = importing.check(importing.parse(text))
    if plan.refused:  # the books changed since the preview (a customer archived, say)
        return _preview(plan, _filename(), 422, notice="Since the preview, rows have come to "
                                                       "have errors: nothing was imported.")
    importing.apply(plan, actor=current_user.actor)
    importing.audit_run(plan, actor=current_user.actor)
    db.session.commit()
    return _page("credit/_import_done.html", plan=plan, counts=plan.counts, totals=plan.totals,
                 shown=_shown(plan), customers=_customers(plan), filename=_filename(),
                 sealed=_pack(importing.report_csv(plan)), labels=importing.LABELS,
                 preview_rows=PREVIEW_ROWS)


@bp.post("/credit/import/check.csv")
@requires("credit.manage")
def import_check_report():
    """What would become of every row of the previewed file, as CSV (nothing is written)."""
    text = _unpack(request.form.get("sealed", ""))
    if text is None:
        return _upload_page(status=422, error="This preview has expired: upload the file again.")
    plan = importing.check(importing.parse(text))
    return _csv(importing.report_csv(plan), "credit-import-check.csv")


@bp.post("/credit/import/report.csv")
@requires("credit.manage")
def import_report():
    """What became of every row of the import just done, as CSV."""
    report = _unpack(request.form.get("sealed", ""))
    if report is None:
        return _upload_page(status=422, error="This report has expired; every imported row is "
                                              "on its customer's Credit tab.")
    return _csv(report, "credit-import-report.csv")


def _csv(text: str, name: str):
    return Response("\ufeff" + text, mimetype="text/csv", headers=download_headers(name))
