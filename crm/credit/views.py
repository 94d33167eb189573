"""The customer's Credit tab: status and reasons for everyone who may see credit; limit,
terms, balance, aging, invoices, payments and the ledger for those who may see money; the
forms for those who manage credit. Every change answers with the whole tab."""
from flask import abort, render_template, request, url_for
from flask_login import current_user

from crm.common import ConflictError, farm_today, parse_id
from crm.credit import bp
from crm.credit import services as credit
from crm.credit.forms import (
    ADJUSTMENTS,
    AdjustForm,
    HoldForm,
    ManualInvoiceForm,
    PaymentForm,
    RefundForm,
    ReverseForm,
    TermsForm,
)
from crm.credit.models import (
    AGING_BUCKETS,
    AGING_LABELS,
    ALERT_KINDS,
    DEFAULT_TERMS,
    HOLDS,
    PAYMENT_METHODS,
    TERMS,
    CreditAccount,
)
from crm.credit.services import CreditBlocked, CreditError, get_entry, get_payment
from crm.credit.statements import get_invoice
from crm.customers.services import ArchivedError, customer_or_404
from crm.extensions import db
from crm.money import format_money
from crm.security.permissions import can, requires
from crm.toasts import redirect_with, toast
from crm.web import render, save_form, wants_fragment

URL = "/customers/<int:customer_id>/credit"
ERRORS = (CreditError, ArchivedError)


def _customer(customer_id):
    return customer_or_404(customer_id, overview=False)


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 10_000 else 1


FORMS = {"terms": "Credit limit and terms", "hold": "Put on hold", "payment": "Record a payment",
         "invoice": "Invoice something by hand", "adjust": "Credit note or write-off",
         "refund": "Refund"}


def _form_names(customer, on_hold: bool) -> list[str]:
    """The forms this user may use on this customer, in the tab's order."""
    if customer.is_archived or not can(current_user, "credit.manage"):
        return []
    names = ["terms", *([] if on_hold else ["hold"]), "payment", "invoice"]
    return names + (["adjust", "refund"] if can(current_user, "credit.adjust") else [])


def _fresh_form(name, customer):
    """One of the tab's forms, empty, with its defaults and choices."""
    if name == "terms":
        account = db.session.get(CreditAccount, customer.id)
        return TermsForm(formdata=None, data={
            "credit_limit": account.credit_limit if account else None,
            "terms": account.terms if account else DEFAULT_TERMS,
            "version": account.version if account else 1})  # a new account's version
    if name == "hold":
        return HoldForm(formdata=None)
    if name == "invoice":
        return ManualInvoiceForm(formdata=None)
    if name == "refund":
        return RefundForm(formdata=None, payments=[
            p for p, left in credit.recent_payments(customer.id) if left > 0])
    shown = credit.open_rows(customer.id)[:credit.OPEN_SHOWN]
    if name == "payment":
        return PaymentForm(formdata=None, data={"received_on": farm_today()}, invoices=shown)
    return AdjustForm(formdata=None, invoices=shown)


LABELS = {"terms": TERMS, "holds": HOLDS, "aging_buckets": AGING_BUCKETS,
          "aging": AGING_LABELS, "alerts": ALERT_KINDS, "methods": PAYMENT_METHODS}


def _render(customer, status=200, given=None):
    """The tab: its forms folded and fetched when opened (`given` {name: form}: shown open,
    e.g. with its errors)."""
    summary = credit.credit_summary(customer, amounts=can(current_user, "credit.amounts"),
                                    page=_page())
    on_hold = summary["amounts"] and summary["account"].hold is not None
    return render("customers/detail.html", "customers/_tab.html", status, customer=customer,
                  tab="credit", credit=summary, may_adjust=can(current_user, "credit.adjust"),
                  labels=LABELS, ledger_url=lambda page: url_for(
                      "credit.panel", customer_id=customer.id, page=page),
                  forms=[(name, FORMS[name], (given or {}).get(name))
                         for name in _form_names(customer, on_hold)])


@bp.get(URL)
@requires("credit.view")
def panel(customer_id):
    """The Credit tab."""
    return _render(_customer(customer_id))


@bp.get(URL + "/forms/<any(terms, hold, payment, invoice, adjust, refund):name>")
@requires("credit.manage")
def form(customer_id, name):
    """One of the tab's forms: for htmx the form alone (its fold has just been opened),
    otherwise the tab with it unfolded."""
    customer = _customer(customer_id)
    if name not in _form_names(customer, on_hold=False):
        abort(404 if customer.is_archived else 403)
    fresh = _fresh_form(name, customer)
    if wants_fragment():
        return render_template("credit/_form.html", customer=customer, name=name, f=fresh,
                               may_adjust=can(current_user, "credit.adjust"))
    return _render(customer, given={name: fresh})


def _editable(customer_id):
    customer = _customer(customer_id)
    if customer.is_archived:
        raise ArchivedError(customer)
    return customer


def _save(customer_id, form, apply, done, name, result_url=None):
    """Validate, apply, commit, toast; the tab again either way (422 with the form)."""
    customer = _customer(customer_id)

    def success(result):
        toast(done(result) if callable(done) else done)
        return _render(_customer(customer_id))

    def failure():
        return _render(customer, 422, given={name: form})

    return save_form(form, lambda: apply(customer), success=success, failure=failure,
                     errors=ERRORS, result_url=result_url)


@bp.post(URL + "/terms")
@requires("credit.manage")
def terms(customer_id):
    form = TermsForm()
    try:
        return _save(customer_id, form, lambda c: credit.set_terms(
            _editable(c.id), credit_limit=form.credit_limit.data, terms=form.terms.data,
            version=form.version.data, actor=current_user.actor), "Credit terms saved.",
            "terms")
    except ConflictError:
        db.session.rollback()
        form.form_errors.append("Someone else changed these terms meanwhile: they are shown "
                                "now. Check them and save again.")
        customer = _customer(customer_id)
        fresh = _fresh_form("terms", customer)
        fresh.form_errors = form.form_errors
        return _render(customer, 409, given={"terms": fresh})


@bp.post(URL + "/hold")
@requires("credit.manage")
def hold(customer_id):
    form = HoldForm()
    return _save(customer_id, form, lambda c: credit.place_hold(
        _editable(c.id), form.reason.data, actor=current_user.actor),
        "The account is on hold: new orders are refused.", "hold")


@bp.post(URL + "/hold/lift")
@requires("credit.manage")
def lift(customer_id):
    customer = _customer(customer_id)
    credit.lift_hold(customer, actor=current_user.actor)
    db.session.commit()
    toast("Hold lifted.")
    return _render(customer)


@bp.post(URL + "/payments")
@requires("credit.manage")
def payment(customer_id):
    """Record a payment; the same form sent twice records one (its form key)."""
    customer = _customer(customer_id)
    open_now = credit.open_rows(customer.id)
    form = PaymentForm(invoices=open_now)

    def first_pick():
        """{invoice: as much of the payment as it takes} for the invoice picked to go first."""
        if form.first.data is None:
            return None
        left = {row.id: row.open for row in open_now}
        if form.first.data not in left:
            raise CreditError("Choose one of this customer's open invoices, or none.")
        return {form.first.data: min(form.amount.data, left[form.first.data])}

    def done(made):
        left = credit.unapplied(made.id)
        return ("Payment recorded" + (f"; {format_money(left)} of it is credit on "
                                      "account." if left else ", allocated to open invoices."))

    return _save(customer_id, form, lambda c: credit.record_payment(
        _editable(c.id), form.amount.data, method=form.method.data,
        reference=form.reference.data, received_on=form.received_on.data,
        allocations=first_pick(), actor=current_user.actor), done, "payment",
        result_url=lambda made: url_for("credit.panel", customer_id=customer_id))


@bp.post(URL + "/invoices")
@requires("credit.manage")
def manual_invoice(customer_id):
    """An invoice for ad hoc charges; a block by the credit check refuses it unless someone
    who may adjust credit gives a reason to invoice anyway."""
    form = ManualInvoiceForm()
    override = form.override.data if can(current_user, "credit.adjust") else None

    def apply(customer):
        try:
            made, _ = credit.manual_invoice(
                _editable(customer.id), [(form.description.data, 1, form.amount.data)],
                memo=form.memo.data, due_date=form.due_date.data, override=override,
                actor=current_user.actor)
        except CreditBlocked as blocked:
            amounts = can(current_user, "credit.amounts")
            raise CreditError("The credit check refuses this invoice: " + " ".join(
                r.text(amounts) for r in blocked.decision.reasons)) from None
        return made

    return _save(customer_id, form, apply, lambda made: f"Invoice {made.number} issued.",
                 "invoice",
                 result_url=lambda made: url_for("credit.panel", customer_id=customer_id))


# -- adjustments (finance) -------------------------------------------------------------------

@bp.post(URL + "/adjust")
@requires("credit.adjust")
def adjust(customer_id):
    """A credit note or a write-off against one of the customer's open invoices."""
    customer = _customer(customer_id)
    form = AdjustForm(invoices=credit.open_rows(customer.id))

    def apply(customer):
        invoice = get_invoice(customer, form.invoice_id.data) if form.invoice_id.data else None
        if invoice is None:
            raise CreditError("Choose one of this customer's open invoices.")
        credit.settle_invoice(invoice, form.amount.data, kind=form.kind.data,
                              memo=form.memo.data, actor=current_user.actor)
        return invoice

    label = ADJUSTMENTS.get(form.kind.data, "Adjustment")
    return _save(customer_id, form, apply, lambda invoice: f"{label} on {invoice.number} "
                 "recorded.", "adjust")


@bp.post(URL + "/refund")
@requires("credit.adjust")
def refund(customer_id):
    """Pay back money of a payment that is not allocated."""
    customer = _customer(customer_id)
    form = RefundForm(payments=[p for p, left in credit.recent_payments(customer.id) if left])

    def apply(customer):
        payment = get_payment(customer, form.payment_id.data) if form.payment_id.data else None
        if payment is None:
            raise CreditError("Choose one of this customer's payments.")
        return credit.refund(payment, form.amount.data, memo=form.memo.data,
                             actor=current_user.actor)

    return _save(customer_id, form, apply, "Refund recorded.", "refund")


@bp.route(URL + "/entries/<int:entry_id>/reverse", methods=["GET", "POST"])
@requires("credit.adjust")
def reverse(customer_id, entry_id):
    """Undo one ledger entry with its mirror image, once, with a reason."""
    customer = _customer(customer_id)
    entry = get_entry(customer, entry_id)
    if entry is None:
        abort(404)
    form = ReverseForm()
    if form.validate_on_submit():
        try:
            credit.reverse(entry, memo=form.memo.data, actor=current_user.actor)
        except CreditError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            return redirect_with(url_for("credit.panel", customer_id=customer.id) +
                                 "#credit-ledger", "Entry reversed.")
    status = 422 if request.method == "POST" else 200
    return render_template("credit/reverse.html", customer=customer, entry=entry,
                           form=form), status


# -- the farm's Credit page ------------------------------------------------------------------

@bp.get("/credit")
@requires("credit.amounts")
def index():
    """What the farm is owed: aging and DSO, the alerts to look at, who is on hold."""
    return render_template("credit/index.html", aging=credit.farm_aging(),
                           alerts=credit.alerts(), held=credit.on_hold(), labels=LABELS)


@bp.post("/credit/alerts/seen")
@requires("credit.manage")
def seen():
    """Mark alerts seen (the ticked ones, or one by its button)."""
    ids = [i for i in (parse_id(v) for v in request.form.getlist("alert")) if i is not None]
    count = credit.mark_seen(ids, actor=current_user.actor)
    db.session.commit()
    return redirect_with(url_for("credit.index"), f"{count} alert{'s' if count != 1 else ''} "
                         "marked seen." if count else "Nothing was marked.")
