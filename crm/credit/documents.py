"""Printable credit documents: an invoice and a statement of account, each a page to read and
print (print CSS) and a PDF (WeasyPrint, through crm.pdf, as the delivery sheets)."""
from datetime import date, timedelta

from flask import abort, current_app, render_template, request

from crm.common import farm_today
from crm.credit import bp
from crm.credit.models import AGING_BUCKETS, AGING_LABELS, TERMS
from crm.credit.statements import StatementError, get_invoice, invoice_document, statement
from crm.customers.services import customer_or_404
from crm.pdf import pdf_response, stylesheet
from crm.security.permissions import requires

STATEMENT_DAYS = 90  # the period a statement covers when none is asked for: up to today


def _invoice(customer_id, invoice_id):
    customer = customer_or_404(customer_id)
    invoice = get_invoice(customer, invoice_id)
    if invoice is None:
        abort(404)
    return customer, invoice_document(invoice)


def _billing_address(customer):
    return next((a for a in customer.addresses if a.kind == "billing"), None)


def _context(customer, **more):
    return {"customer": customer, "billing": _billing_address(customer), "terms": TERMS,
            "buckets": AGING_BUCKETS, "bucket_labels": AGING_LABELS, **more}


def _document(template, **context):
    """A document's whole HTML for the PDF, its stylesheet inlined."""
    return render_template(template, css=stylesheet(current_app.static_folder, "documents.css"),
                           **context)


@bp.get("/customers/<int:customer_id>/invoices/<int:invoice_id>")
@requires("credit.amounts")
def invoice(customer_id, invoice_id):
    """An invoice, to read or print: lines, total, what is paid and what is open."""
    customer, document = _invoice(customer_id, invoice_id)
    return render_template("credit/invoice.html", **_context(customer, doc=document))


@bp.get("/customers/<int:customer_id>/invoices/<int:invoice_id>.pdf")
@requires("credit.amounts")
def invoice_pdf(customer_id, invoice_id):
    """The same invoice as a PDF, named by its number."""
    customer, document = _invoice(customer_id, invoice_id)
    html = _document("credit/invoice_pdf.html", **_context(customer, doc=document))
    return pdf_response(html, f"{document.invoice.number}.pdf")


def _period():
    """(start, end) from ?from=YYYY-MM-DD&to=YYYY-MM-DD (default: the last 90 days to today);
    StatementError with a clear message for a bad value."""
    def day(name, default):
        raw = request.args.get(name, "").strip()
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise StatementError(f"“{raw[:20]}” is not a date; use YYYY-MM-DD, e.g. "
                                 f"{farm_today():%Y-%m-%d}.") from None

    end = day("to", farm_today())
    return day("from", end - timedelta(days=STATEMENT_DAYS)), end


def _statement(customer_id):
    customer = customer_or_404(customer_id)
    try:
        start, end = _period()
        return customer, statement(customer, start, end), None
    except StatementError as exc:
        return customer, None, str(exc)


@bp.get("/customers/<int:customer_id>/statement")
@requires("credit.amounts")
def statement_page(customer_id):
    """A customer's statement of account for a period, to read or print."""
    customer, found, error = _statement(customer_id)
    return render_template("credit/statement.html", **_context(
        customer, st=found, error=error)), 400 if error else 200


@bp.get("/customers/<int:customer_id>/statement.pdf")
@requires("credit.amounts")
def statement_pdf(customer_id):
    """The same statement as a PDF, named by the customer's number and the period's end."""
    customer, found, error = _statement(customer_id)
    if error:
        return render_template("credit/statement.html", **_context(
            customer, st=None, error=error)), 400
    html = _document("credit/statement_pdf.html", **_context(customer, st=found))
    return pdf_response(html, f"statement-{customer.number}-{found.end:%Y-%m}.pdf")
