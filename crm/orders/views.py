"""The price list (managers) and a customer's Orders tab: recent orders, a new order, an order
from the standing items, and each order with the actions its status and the user's role allow.
Amounts appear only for roles holding credit.amounts (the `money` filter refuses otherwise)."""
from datetime import time, timedelta

from babel.numbers import get_currency_symbol
from flask import abort, current_app, render_template, request, url_for
from flask_login import current_user

from crm.catalogue.services import catalogue
from crm.common import ConflictError, farm_today
from crm.credit.services import CreditBlocked, CreditError
from crm.customers.models import PRICING_TIERS
from crm.customers.services import ArchivedError, customer_or_404
from crm.extensions import db
from crm.jobs.progress import poll_status
from crm.jobs.services import enqueue, get_run
from crm.money import currency, locale
from crm.orders import bp
from crm.orders.forms import (
    EXTRA_ROWS,
    NEW_ORDER_ROWS,
    ActionForm,
    DuplicateForm,
    LinesForm,
    NewOrderForm,
    OrdersForDayForm,
    OverrideForm,
    StandingOrderForm,
    line_choices,
    pad_lines,
    price_changes,
    price_list_form,
)
from crm.orders.jobs import day_param, param_day
from crm.orders.services import (
    OrderError,
    cancel_order,
    change_lines,
    confirm_order,
    create_order,
    customer_orders,
    deliver_order,
    duplicate_order,
    from_standing_items,
    get_order,
    has_standing_items,
    invoice_order,
    last_price_change,
    next_delivery_date,
    orders_with_customers,
    price_list,
    price_list_mark,
    reopen_order,
    set_prices,
)
from crm.security.permissions import can, requires
from crm.toasts import redirect_with, toast
from crm.web import render, save_form, wants_fragment

URL = "/customers/<int:customer_id>/orders"
ORDER_URL = URL + "/<int:order_id>"


# -- the price list -------------------------------------------------------------------------

def _active_products():
    products, _ = catalogue()
    return [p for p in products if p.retired_at is None]


def _render_prices(form=None, status=200, conflict=False):
    """The price list page, or (htmx) its form alone."""
    if form is None:
        form = price_list_form(_active_products(), price_list(), seen=price_list_mark())
    return render("orders/prices.html", "orders/_prices.html", status, form=form,
                  last=last_price_change(), conflict=conflict, pricing_tiers=PRICING_TIERS,
                  currency_symbol=get_currency_symbol(currency(), locale=locale()))


@bp.get("/prices")
@requires("prices.manage")
def prices():
    """The price list: a row per product size, a column per pricing tier."""
    return _render_prices()


@bp.post("/prices")
@requires("prices.manage")
def save_prices():
    """Save the price list: every cell read as money, or nothing saved (422, each bad cell
    marked); a list changed by someone else meanwhile is refused (409) with what was typed."""
    form = price_list_form(_active_products(), {}, formdata=request.form)
    if not form.validate_on_submit():
        return _render_prices(form, 422)
    try:
        changed = set_prices(price_changes(form), actor=current_user.actor,
                             seen=form.seen.data)
    except ConflictError as exc:
        db.session.rollback()
        form.seen.data = exc.current  # saving again is a deliberate overwrite
        return _render_prices(form, 409, conflict=True)
    except OrderError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return _render_prices(form, 422)
    db.session.commit()
    message = (f"{changed} price{'s' if changed != 1 else ''} changed. Orders created from now "
               "on use them." if changed else "Nothing changed.")
    if wants_fragment():
        toast(message)
        return _render_prices()
    return redirect_with(url_for(".prices"), message)


# -- the Orders tab -------------------------------------------------------------------------

def _customer(customer_id):
    return customer_or_404(customer_id)


def _may_edit(customer) -> bool:
    return can(current_user, "orders.edit") and not customer.is_archived


def _tab_context(customer, new_form=None, standing_form=None):
    products, packaging = catalogue()
    context = dict(customer=customer, tab="orders", order=None,
                   orders=customer_orders(customer.id),
                   archived=str(ArchivedError(customer)) if customer.is_archived else None,
                   can_edit=_may_edit(customer))
    if context["can_edit"]:
        new_form = new_form or NewOrderForm(formdata=None)
        context["new_form"] = line_choices(pad_lines(new_form, NEW_ORDER_ROWS), products,
                                           packaging)
        context["has_items"] = has_standing_items(customer.id)
        context["next_date"] = next_delivery_date(customer)
        standing_form = standing_form or StandingOrderForm(formdata=None)
        if standing_form.delivery_date.data is None and not standing_form.errors:
            standing_form.delivery_date.data = context["next_date"]
        context["standing_form"] = standing_form
    return context


def _render_tab(customer, status=200, **forms):
    return render("customers/detail.html", "customers/_tab.html", status,
                  **_tab_context(customer, **forms))


def _order_url(customer_id, order_id):
    return url_for("orders.order", customer_id=customer_id, order_id=order_id)


@bp.get(URL)
@requires("orders.view")
def panel(customer_id):
    """The Orders tab: recent orders, a new order, an order from the standing items."""
    return _render_tab(_customer(customer_id))


@bp.post(URL)
@requires("orders.edit")
def new_order(customer_id):
    """Create a draft order (priced when it is confirmed); answered with its page."""
    customer = _customer(customer_id)
    form = NewOrderForm()
    return save_form(
        form, lambda: create_order(customer, form.delivery_date.data, form.given_lines(),
                                   actor=current_user.actor),
        success=lambda order: redirect_with(_order_url(customer_id, order.id),
                                            f"{order.number} created as a draft."),
        failure=lambda: _render_tab(customer, 422, new_form=form),
        errors=(OrderError,), result_url=lambda order: _order_url(customer_id, order.id))


@bp.post(URL + "/from-standing-items")
@requires("orders.edit")
def from_standing(customer_id):
    """A draft order of the customer's standing items for its next delivery day."""
    customer = _customer(customer_id)
    form = StandingOrderForm()
    return save_form(
        form, lambda: from_standing_items(customer, form.delivery_date.data,
                                          actor=current_user.actor),
        success=lambda order: redirect_with(_order_url(customer_id, order.id),
                                            f"{order.number} created from the standing items."),
        failure=lambda: _render_tab(customer, 422, standing_form=form),
        errors=(OrderError,), result_url=lambda order: _order_url(customer_id, order.id))


# -- one order ------------------------------------------------------------------------------

def _order_or_404(customer_id, order_id):
    """The customer and its order (scoped: another customer's order id is a 404)."""
    customer = _customer(customer_id)
    order = get_order(customer, order_id)
    if order is None:
        abort(404)
    return customer, order


def _order_context(customer, order, *, lines_form=None, override_form=None,
                   duplicate_form=None, reasons=None, error=None, conflict=False, notice=None):
    """What the order panel shows. `reasons`: a credit decision's reasons just now (with the
    amounts for those who may see them); otherwise the words kept on the draft."""
    products, packaging = catalogue()
    editable = _may_edit(customer)
    context = dict(customer=customer, tab="orders", order=order, can_edit=editable,
                   archived=str(ArchivedError(customer)) if customer.is_archived else None,
                   error=error, conflict=conflict, notice=notice,
                   action_form=ActionForm(formdata=None, data={"version": order.version}))
    amounts = can(current_user, "credit.amounts")
    if reasons is not None:
        context["reasons"] = [r.text(amounts) for r in reasons]
    elif order.status == "draft" and order.credit_reasons:
        context["reasons"] = [r["words"] for r in order.credit_reasons]
    else:
        context["reasons"] = []
    if editable and order.status in ("draft", "confirmed"):
        if lines_form is None:
            lines_form = LinesForm(formdata=None, data={"version": order.version, "lines": [
                {"product_id": line.product_id, "size": line.size, "quantity": line.quantity,
                 "packaging_id": line.packaging_id} for line in order.lines]})
            pad_lines(lines_form, len(order.lines) + EXTRA_ROWS)
        context["lines_form"] = line_choices(lines_form, products, packaging)
    if editable and order.status == "draft" and context["reasons"] \
            and can(current_user, "credit.adjust"):
        context["override_form"] = override_form or OverrideForm(
            formdata=None, data={"version": order.version})
    if editable:
        context["duplicate_form"] = duplicate_form or DuplicateForm(formdata=None)
    return context


def _render_order(customer, order, status=200, **state):
    """The order: in the customer page (Orders tab) for a full request; for htmx, the order
    panel alone (its actions swap it) or, for a GET (from the tab's list), the tab panel."""
    context = _order_context(customer, order, **state)
    if not wants_fragment():
        return render_template("customers/detail.html", **context), status
    if request.method == "GET":
        return render_template("customers/_tab.html", **context), status
    return render_template("orders/_order.html", **context), status


def _done(customer, order, message, level="success"):
    """After a change: the order panel with a toast (htmx), or a redirect to the order."""
    if not wants_fragment():
        return redirect_with(_order_url(customer.id, order.id), message, level)
    toast(message, level)
    return _render_order(customer, order)


def _conflict(customer_id, order_id, **state):
    db.session.rollback()
    customer, order = _order_or_404(customer_id, order_id)
    return _render_order(customer, order, 409, conflict=True, **state)


@bp.get(ORDER_URL)
@requires("orders.view")
def order(customer_id, order_id):
    """One order: its lines, and the actions its status and the user's role allow."""
    return _render_order(*_order_or_404(customer_id, order_id))


@bp.post(ORDER_URL + "/lines")
@requires("orders.edit")
def lines(customer_id, order_id):
    """New lines for a draft, or a confirmed order (priced again; more owed asks credit)."""
    customer, order = _order_or_404(customer_id, order_id)
    form = LinesForm()
    if not form.validate_on_submit():
        return _render_order(customer, order, 422, lines_form=form)
    try:
        decision = change_lines(order, form.given_lines(), actor=current_user.actor,
                                version=form.version.data)
    except ConflictError:
        return _conflict(customer_id, order_id)
    except CreditBlocked as exc:
        db.session.rollback()
        customer, order = _order_or_404(customer_id, order_id)
        return _render_order(customer, order, 422, lines_form=form,
                             reasons=exc.decision.reasons,
                             error="The new lines were not saved: the customer may not owe "
                                   "that much more.")
    except OrderError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        customer, order = _order_or_404(customer_id, order_id)
        return _render_order(customer, order, 422, lines_form=form)
    db.session.commit()
    return _done(customer, order, *_outcome(f"{order.number}: lines saved.", decision))


def _outcome(message, decision):
    """The message and toast level after a change credit was asked about: a warning says
    why (with amounts for those who may see them)."""
    if decision is not None and decision.outcome == "warn":
        amounts = can(current_user, "credit.amounts")
        return f"{message} Note: {' '.join(r.text(amounts) for r in decision.reasons)}", \
            "warning"
    return message, "success"


@bp.post(ORDER_URL + "/confirm")
@requires("orders.edit")
def confirm(customer_id, order_id):
    """Confirm a draft: prices frozen and credit asked. Refused, the draft shows why; someone
    who may adjust credit can confirm it anyway with a reason (`override`)."""
    customer, order = _order_or_404(customer_id, order_id)
    overriding = "override" in request.form
    if overriding and not can(current_user, "credit.adjust"):
        abort(403)
    form = OverrideForm() if overriding else ActionForm()
    if not form.validate_on_submit():
        state = {"override_form": form} if overriding else {"error": _form_error(form)}
        return _render_order(customer, order, 422, **state)
    try:
        decision = confirm_order(order, actor=current_user.actor, version=form.version.data,
                                 override=form.override.data if overriding else None)
    except ConflictError:
        return _conflict(customer_id, order_id)
    except CreditBlocked as exc:
        db.session.commit()  # the reasons are kept on the draft
        customer, order = _order_or_404(customer_id, order_id)
        return _render_order(customer, order, 422, reasons=exc.decision.reasons,
                             error=f"{order.number} was not confirmed: credit is blocked.")
    except OrderError as exc:
        db.session.rollback()
        customer, order = _order_or_404(customer_id, order_id)
        return _render_order(customer, order, 422, error=str(exc))
    db.session.commit()
    word = "confirmed past the credit block" if overriding and order.override_reason \
        else "confirmed"
    return _done(customer, order, *_outcome(f"{order.number} {word}.", decision))


def _form_error(form):
    if "csrf_token" in form.errors:
        return "The form expired. Send it again."
    return "This form is out of date. Check the order and send it again."


ACTIONS = {"cancel": (cancel_order, "cancelled"), "reopen": (reopen_order, "reopened"),
           "deliver": (deliver_order, "marked delivered")}


def _act(customer_id, order_id, action):
    customer, order = _order_or_404(customer_id, order_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _render_order(customer, order, 422, error=_form_error(form))
    try:
        if order.version != form.version.data:
            raise ConflictError(order)
        if action == "invoice":
            invoice = invoice_order(order, actor=current_user.actor)
            message = f"{order.number} invoiced as {invoice.number}."
        else:
            service, word = ACTIONS[action]
            service(order, actor=current_user.actor, version=form.version.data)
            message = f"{order.number} {word}."
    except ConflictError:
        return _conflict(customer_id, order_id)
    except (OrderError, CreditError) as exc:
        db.session.rollback()
        customer, order = _order_or_404(customer_id, order_id)
        return _render_order(customer, order, 422, error=str(exc))
    db.session.commit()
    return _done(customer, order, message)


@bp.post(ORDER_URL + "/<any(cancel, reopen):action>")
@requires("orders.edit")
def change_status(customer_id, order_id, action):
    """Cancel a draft or confirmed order, or reopen a cancelled one as a draft."""
    return _act(customer_id, order_id, action)


@bp.post(ORDER_URL + "/<any(deliver, invoice):action>")
@requires("credit.manage")
def fulfil(customer_id, order_id, action):
    """Mark a confirmed order delivered, or invoice a delivered one (never blocked by
    credit: the goods are gone)."""
    return _act(customer_id, order_id, action)


@bp.post(ORDER_URL + "/duplicate")
@requires("orders.edit")
def duplicate(customer_id, order_id):
    """The same lines for another day, as a new draft; answered with its page."""
    customer, order = _order_or_404(customer_id, order_id)
    form = DuplicateForm()
    return save_form(
        form, lambda: duplicate_order(order, form.delivery_date.data, actor=current_user.actor),
        success=lambda copy: redirect_with(_order_url(customer_id, copy.id),
                                           f"{copy.number} created from {order.number}."),
        failure=lambda: _render_order(customer, order, 422, duplicate_form=form),
        errors=(OrderError,), result_url=lambda copy: _order_url(customer_id, copy.id))


# -- orders for a day (the job orders_for_date) ---------------------------------------------

DAY_JOB = "orders_for_date"


def _day_run(run_id):
    """The run of the day job asked for: the user's own (an admin's: anyone's), else None."""
    if run_id is None:
        return None
    run = get_run(run_id, owner=None if can(current_user, "admin.jobs") else current_user.actor)
    return run if run is not None and run.name == DAY_JOB else None


def _day_context(form, run):
    blocked = orders_with_customers((run.result or {}).get("blocked_orders", [])) \
        if run is not None and run.status == "finished" else []
    return dict(form=form, run=run, blocked=blocked,
                run_day=param_day(run.params["day"]) if run is not None else None,
                cutoff=time(current_app.config["ORDER_CUTOFF_HOUR"]).strftime("%-I %p"))


@bp.get("/orders/for-day")
@requires("orders.bulk")
def for_day():
    """Orders for a day: pick a date, make the orders of every customer delivering then (a
    job); with ?run=, that run's progress (htmx: the component alone, 286 once it is done)."""
    run_id = request.args.get("run", type=int)
    run = _day_run(run_id)
    if run_id is not None and run is None:
        abort(404)
    form = OrdersForDayForm(formdata=None, data={
        "delivery_date": param_day(run.params["day"]) if run else farm_today() + timedelta(1)})
    context = _day_context(form, run)
    if run is not None and wants_fragment():
        return render_template("orders/_day_run.html", **context), poll_status(run)
    return render_template("orders/for_day.html", **context)


@bp.post("/orders/for-day")
@requires("orders.bulk")
def start_for_day():
    """Start the job making the day's orders (the date as YYYYMMDD, no customer ids); answered
    with the page showing its progress. Without Redis it has run by the time that page loads."""
    form = OrdersForDayForm()
    return save_form(
        form, lambda: enqueue(DAY_JOB, actor=current_user.actor,
                              day=day_param(form.delivery_date.data)),
        success=lambda run: redirect_with(
            url_for(".for_day", run=run.id),
            f"Orders for {form.delivery_date.data:%A %B %-d}: "
            + ("done." if run.done else "started.")),
        failure=lambda: (render_template("orders/for_day.html",
                                         **_day_context(form, None)), 422),
        errors=(), result_url=lambda run: url_for(".for_day", run=run.id))
