"""Pages of the CSV import (upload, preview, run, report) and the CSV export.

Routes register on the contacts blueprint (crm/contacts/views.py imports this module).
"""
import csv
import io
import json
from datetime import datetime

from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, RadioField, SelectField

from crm.audit.services import record
from crm.common import accepts_uploads, farm_zone, parse_id
from crm.contacts import bp
from crm.contacts.importing import (
    COLUMNS,
    DEFAULT_KIND,
    LABELS,
    MAX_BYTES,
    POLICIES,
    ImportFileError,
    opened,
    preview,
    safe_cell,
)
from crm.contacts.importing import mapping as columns_of
from crm.contacts.importing.preview import PAGE_ROWS
from crm.contacts.models import CONTACT_ROLES, Contact, ContactImport, CustomerContact
from crm.customers.models import KINDS, Address, Customer
from crm.customers.services import (
    feature_conditions,
    list_args,
    list_filters,
    search_customers,
)
from crm.downloads import download_headers
from crm.extensions import db, htmx
from crm.forms import choices
from crm.jobs.models import JobRun
from crm.jobs.progress import poll_status
from crm.jobs.services import enqueue, sweep_stale_runs
from crm.security.encryption import seal, unseal
from crm.security.permissions import can, requires
from crm.toasts import redirect_with
from crm.web import wants_fragment

EXPORT_BATCH = 500


class ImportOptionsForm(FlaskForm):
    """What to do with rows that match existing records, and with rows that have errors; the
    kind of new customers whose rows give none. (The columns' fields are posted beside it as
    field-0, field-1…: their number is the file's.)"""

    on_duplicate = RadioField("When a row matches a customer or contact already here",
                              choices=choices(POLICIES), default="skip")
    default_kind = SelectField(
        "A new customer whose row gives no kind is",
        choices=choices({k: v for k, v in KINDS.items() if k != "individual"}),
        default=DEFAULT_KIND,
        description="People without an organisation become individual customers.")
    skip_invalid = BooleanField(
        "Import valid rows only",
        description="Rows with errors are left out and listed in the report. Without this, "
                    "nothing is imported while any row has an error.")


class ImportUploadForm(ImportOptionsForm):
    file = FileField(
        "CSV file", validators=[FileRequired("Choose a CSV file.")],
        description=f"{MAX_BYTES // 2**20} MB at most. Comma-, semicolon- or tab-separated, "
                    "UTF-8 or Latin-1; the first line names the columns.")


# -- upload ----------------------------------------------------------------------------------

def _recent_imports():
    query = select(ContactImport).order_by(ContactImport.id.desc()).limit(10)
    if not can(current_user, "admin.jobs"):
        actor = current_user.actor
        query = query.where(ContactImport.uploaded_by_kind == actor.kind,
                            ContactImport.uploaded_by_id == actor.id)
    return db.session.scalars(query).all()


@bp.route("/contacts/import", methods=["GET", "POST"])
@requires("contacts.import")
@accepts_uploads(MAX_BYTES + 2**16)  # the file plus the multipart envelope
def import_upload():
    """Upload a CSV of customers with their contacts; it is checked before anything is written
    (here for a small file, by a job for a large one while its page shows progress)."""
    form = ImportUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            text, encoding = opened(upload.read(MAX_BYTES + 1))
            actor = current_user.actor
            imp = ContactImport(filename=(upload.filename or "upload.csv")[:255],
                                content=text, on_duplicate=form.on_duplicate.data,
                                skip_invalid=form.skip_invalid.data,
                                default_kind=form.default_kind.data, status="checking",
                                uploaded_by_kind=actor.kind, uploaded_by_id=actor.id,
                                counts={"encoding": encoding})
            db.session.add(imp)
            db.session.flush()
            _start_check(imp)
        except ImportFileError as exc:
            db.session.rollback()
            form.file.errors.append(str(exc))
        else:
            db.session.commit()
            url = url_for("contacts.import_preview", import_id=imp.id)
            if htmx:
                return "", 204, {"HX-Redirect": url}
            return redirect(url, 303)
    status = 422 if request.method == "POST" else 200
    template = "contacts/_import_form.html" if wants_fragment() and request.method == "POST" \
        else "contacts/import.html"
    return render_template(template, form=form, recent=_recent_imports(), max_mb=MAX_BYTES // 2**20,
                           columns=COLUMNS), status


def _start_check(imp):
    """Check the upload for its preview under its current choices (the caller commits): right
    here when it is small, else as a job ("checking" until it is done)."""
    if len(imp.content) <= current_app.config["IMPORT_CHECK_INLINE_BYTES"]:
        preview.check_upload(imp)
        return
    preview.clear(imp)
    imp.status = "checking"
    imp.run_id = enqueue("contacts_import_check", actor=current_user.actor, import_id=imp.id).id


# -- preview, options, run -------------------------------------------------------------------

def _owned(import_id) -> ContactImport:
    """The import, for its uploader or an admin; 404 for anyone else."""
    imp = db.session.get(ContactImport, import_id)
    if imp is None or (imp.uploaded_by != current_user.actor
                       and not can(current_user, "admin.jobs")):
        abort(404)
    return imp


def _run_of(imp):
    if not imp.run_id:
        return None
    sweep_stale_runs()  # an import whose worker died can be retried or discarded
    return db.session.get(JobRun, imp.run_id)


def _stuck(imp, run) -> bool:
    """Checking or importing, but its run failed (or there is none): it can be started again
    or discarded."""
    if imp.status == "checking":
        return run is None or run.status == "failed"
    return imp.status in ("queued", "running") and run is not None and run.status == "failed"


def _page_number(pages: int) -> int:
    """The ?page= asked for, within 1..pages (anything else: the nearest page)."""
    number = parse_id(request.args.get("page", "")) or 1
    return min(number, max(pages, 1))


def _preview_context(imp, summary, form=None, notice=None):
    pages = -(-summary.stats["rows"] // PAGE_ROWS)
    page = _page_number(pages)
    if form is None:
        form = ImportOptionsForm(formdata=None, on_duplicate=imp.on_duplicate,
                                 skip_invalid=imp.skip_invalid, default_kind=imp.default_kind)
    return dict(imp=imp, preview=summary, stats=summary.stats, shown=preview.rows_page(imp, page),
                page=page, pages=pages, page_rows=PAGE_ROWS, first_row=(page - 1) * PAGE_ROWS + 1,
                form=form, labels=LABELS, notice=notice)


def _import_page(imp, status=200, **context):
    """The import's page (or, for htmx, its one component): the check's progress, the
    preview, or the import's progress and outcome, whichever the import is at."""
    run = _run_of(imp)
    stuck = _stuck(imp, run)
    summary = preview.summary(imp) if imp.status in ("previewed", "queued", "running") else None
    if imp.status in ("checking", "unreadable") or (imp.status == "previewed" and not summary):
        context = dict(imp=imp, run=run, stuck=stuck or imp.status == "previewed",
                       error=preview.file_error(imp) if imp.status == "unreadable" else None)
        template = "contacts/_import_checking.html"
    elif summary is not None and (imp.status == "previewed" or stuck):
        context.pop("started", None)
        context = {**_preview_context(imp, summary, **context),
                   "failed_run": run if stuck else None}
        template = "contacts/_import_preview.html"
    else:
        context = dict(imp=imp, run=run, started=context.get("started"))
        template = "contacts/_import_status.html"
    if wants_fragment():
        return render_template(template, oob=True, **context), status
    return render_template("contacts/import_preview.html", partial=template, **context), status


@bp.get("/contacts/import/<int:import_id>")
@requires("contacts.import")
def import_preview(import_id):
    """An uploaded file checked row by row: summary, errors per column, the choices, Import.
    The check is stored (crm.contacts.importing.preview): viewing pages of it checks nothing."""
    return _import_page(_owned(import_id))


@bp.post("/contacts/import/<int:import_id>/check")
@requires("contacts.import")
def import_check(import_id):
    """Check the file again: its check's worker died, or it was uploaded before checks were
    kept."""
    imp = _owned(import_id)
    if imp.status not in ("checking", "previewed") or not (
            _stuck(imp, _run_of(imp)) or preview.summary(imp) is None):
        return redirect(url_for("contacts.import_preview", import_id=imp.id), 303)
    _recheck(imp)
    db.session.commit()
    if not htmx:
        return redirect(url_for("contacts.import_preview", import_id=imp.id), 303)
    return _import_page(imp)


def _take_choices(imp, form):
    """The posted choices onto the import: the options, and each column's field."""
    imp.on_duplicate, imp.skip_invalid = form.on_duplicate.data, form.skip_invalid.data
    imp.default_kind = form.default_kind.data
    width = len(imp.mapping or [])
    if width and all(f"field-{n}" in request.form for n in range(width)):
        imp.mapping = columns_of.clean([request.form[f"field-{n}"] or None
                                        for n in range(width)], width)


def _recheck(imp):
    try:
        _start_check(imp)
    except ImportFileError as exc:  # only a file checked under other rules can get here
        preview.clear(imp)
        imp.status, imp.checked = "unreadable", json.dumps({"error": str(exc)})


@bp.post("/contacts/import/<int:import_id>")
@requires("contacts.import")
def import_options(import_id):
    """Change what happens to matching rows and rows with errors; the preview follows (checked
    again when the duplicate policy changed)."""
    imp = _owned(import_id)
    if imp.status != "previewed":
        return redirect(url_for("contacts.import_preview", import_id=imp.id), 303)
    form = ImportOptionsForm()
    if not form.validate_on_submit():
        return _import_page(imp, status=422, form=form)
    _take_choices(imp, form)
    if imp.checked_for != preview.checked_for(imp):
        _recheck(imp)
    db.session.commit()
    if not htmx:
        return redirect(url_for("contacts.import_preview", import_id=imp.id), 303)
    return _import_page(imp)


@bp.post("/contacts/import/<int:import_id>/run")
@requires("contacts.import")
def import_run(import_id):
    """Start the import as a background job (inline without Redis); the page shows its progress."""
    imp = _owned(import_id)
    page = url_for("contacts.import_preview", import_id=imp.id)
    retry = imp.status in ("queued", "running") and _stuck(imp, _run_of(imp))
    if imp.status != "previewed" and not retry:
        return redirect(page, 303)
    form = ImportOptionsForm()
    if not form.validate_on_submit():
        return _import_page(imp, status=422, form=form)
    chosen = (imp.on_duplicate, imp.skip_invalid, imp.default_kind, imp.mapping)
    _take_choices(imp, form)
    if (imp.on_duplicate, imp.skip_invalid, imp.default_kind, imp.mapping) != chosen:
        if imp.checked_for != preview.checked_for(imp):
            _recheck(imp)
        db.session.commit()
        return _import_page(imp, status=409, notice="The choices changed since this preview: "
                                                    "check it again, then import.")
    summary = preview.summary(imp)
    if summary is None:
        return redirect(page, 303)
    if summary.refused:
        return _import_page(imp, status=422, notice="Rows have errors: nothing can be imported "
                                                    "until they are fixed, unless you choose "
                                                    "“Import valid rows only”.")
    # One run per import, even on a double click: only the request that flips the status goes on.
    claimed = db.session.execute(
        update(ContactImport).where(ContactImport.id == imp.id,
                                    ContactImport.status == imp.status)
        .values(status="queued")
    ).rowcount
    if not claimed:
        db.session.rollback()
        return redirect(page, 303)
    preview.remember(imp)  # the next file with this header gets these columns
    run = enqueue("contacts_import", actor=current_user.actor, import_id=imp.id)
    imp = db.session.get(ContactImport, import_id)
    imp.run_id = run.id
    db.session.commit()
    if htmx:
        return _import_page(imp, started=True)
    return redirect(page, 303)


@bp.get("/contacts/import/<int:import_id>/status")
@requires("contacts.import")
def import_status(import_id):
    """The self-polling progress component of the import's check or run; once the run is done
    it answers with what follows (the preview, or the outcome) and 286, which stops polling."""
    imp = _owned(import_id)
    if not wants_fragment():
        return _import_page(imp)
    return _import_page(imp, status=poll_status(_run_of(imp)))


@bp.post("/contacts/import/<int:import_id>/discard")
@requires("contacts.import")
def import_discard(import_id):
    """Throw away an uploaded file that was not imported."""
    imp = _owned(import_id)
    if imp.status not in ("previewed", "refused", "unreadable", "checking") \
            and not _stuck(imp, _run_of(imp)):
        abort(409)
    db.session.delete(imp)
    db.session.commit()
    return redirect_with(url_for("contacts.import_upload"), "The uploaded file was discarded.")


@bp.get("/contacts/import/<int:import_id>/report.csv")
@requires("contacts.import")
def import_report(import_id):
    """What became of every row of the file, as CSV."""
    imp = _owned(import_id)
    if not imp.report:
        abort(404)
    return Response("\ufeff" + imp.report, mimetype="text/csv", headers={
        **download_headers(f"import-{imp.id}-report.csv")})


# -- export ----------------------------------------------------------------------------------

def _export_url(filters, q):
    return url_for("contacts.export", s=seal(q, actor=current_user.actor) if q else None,
                   **list_args(filters))


@bp.post("/contacts/export")
@requires("contacts.export")
def export_filtered():
    """The customer list's "Export to CSV" with its current filters: the typed search arrives in
    the body and goes on sealed, so the download's URL never shows it."""
    filters = list_filters(request.form)
    q = request.form.get("q", "")[:100].strip()
    url = _export_url(filters, q)
    if htmx:
        return "", 204, {"HX-Redirect": url}
    return redirect(url, 303)


ROLE_ORDER = {role: n for n, role in enumerate(CONTACT_ROLES)}


def _export_rows(customers):
    """One row per customer and contact (a customer without contacts: one row)."""
    ids = [c.id for c in customers]
    notes = {customer_id: text for customer_id, text in db.session.execute(
        select(Customer.id, Customer.notes).where(Customer.id.in_(ids)))}
    people: dict[int, dict] = {}
    for link in db.session.scalars(
        select(CustomerContact).where(CustomerContact.customer_id.in_(ids))
        .options(selectinload(CustomerContact.contact).selectinload(Contact.emails),
                 selectinload(CustomerContact.contact).selectinload(Contact.phones))
    ):
        mine = people.setdefault(link.customer_id, {})
        known = mine.get(link.contact_id)
        if known is None or ROLE_ORDER.get(link.role, 99) < ROLE_ORDER.get(known.role, 99):
            mine[link.contact_id] = link  # one row per person: their most important role
    addresses = {}  # as Customer.delivery_address: the delivery address, else the first
    for place in db.session.scalars(select(Address).where(Address.customer_id.in_(ids))
                                    .order_by(Address.id)):
        current = addresses.get(place.customer_id)
        if current is None or (place.kind == "delivery" and current.kind != "delivery"):
            addresses[place.customer_id] = place
    for customer in customers:
        place = addresses.get(customer.id)
        base = [customer.name, customer.kind]
        where = ([place.street, place.city, place.region, place.postal_code, place.country]
                 if place else [""] * 5)
        links = sorted(people.get(customer.id, {}).values(),
                       key=lambda l: (ROLE_ORDER.get(l.role, 99), l.contact_id))
        if not links:
            yield base + [""] * 5 + where + [notes.get(customer.id)]
        for link in links:
            contact = link.contact
            email = contact.primary_email or (contact.emails[0] if contact.emails else None)
            phone = contact.primary_phone or (contact.phones[0] if contact.phones else None)
            yield base + [contact.first_name, contact.last_name, email.email if email else "",
                          phone.phone if phone else "", link.role] + where + [
                              notes.get(customer.id)]


@bp.get("/contacts/export.csv")
@requires("contacts.export")
def export():
    """Customers and their contacts as CSV: the customer list's filters (kind, status, archived,
    sort, sealed search), every matching customer, streamed; audited; formulas neutralised."""
    filters = list_filters(request.args)
    q = unseal(request.args.get("s", ""), actor=current_user.actor) or ""
    actor, user = current_user.actor, current_user._get_current_object()
    used = [f"filter:{k}={v}" for k, v in filters.items() if v and k in ("kind", "status")]
    used += [f"filter:{k}={v}" for k, v in filters["feature_filters"].items()]  # ids
    used += ["filter:archived"] * filters["archived"] + ["filter:search"] * bool(q)
    used.append(f"sort:{filters['sort']}")
    try:  # a feature's filter that cannot be used (a deleted tag): say so, export nothing
        feature_conditions(filters["feature_filters"], current_user)
    except ValueError as exc:
        return redirect_with(url_for("customers.index", **list_args(filters)), str(exc),
                             "error")

    def generate():
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        yield "\ufeff" + out.getvalue()  # a BOM: spreadsheets then read the accents right
        sent, page = 0, 1
        try:
            while True:
                customers, more = search_customers(q=q, **filters, page=page,
                                                   per_page=EXPORT_BATCH, user=user)
                out.seek(0)
                out.truncate()
                for values in _export_rows(customers):
                    writer.writerow([safe_cell(v) for v in values])
                    sent += 1
                yield out.getvalue()
                db.session.expunge_all()  # memory stays flat however many customers there are
                if not more:
                    break
                page += 1
        finally:
            record("export", "customer", None, actor=actor, fields=used + [f"rows:{sent}"])
            db.session.commit()

    stamp = datetime.now(farm_zone()).strftime("%Y-%m-%d")
    return Response(stream_with_context(generate()), mimetype="text/csv", headers={
        **download_headers(f"customers-{stamp}.csv")})
