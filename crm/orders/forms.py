"""The price list (one money field per product size and tier) and the order forms."""
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError

from crm.common import farm_today
from crm.customers.models import PRICING_TIERS
from crm.forms import FormKeyField, IdField, MaxLength, Trimmed, choices, version_field
from crm.money import MoneyError, money_input, parse_money

NEW_ORDER_ROWS = 5  # empty line rows on a new order (more: save, then change it)
EXTRA_ROWS = 2  # empty rows below an order's lines when they are changed


# -- the price list -------------------------------------------------------------------------

def cell_name(product_id: int, size: str, tier: str) -> str:
    """A cell's field name: the size in hex, so any size ("4 oz", "10x20 tray") is a safe
    name and id and two sizes never share one."""
    return f"p{product_id}-{tier}-{size.encode().hex()}"


def _money_cell(form, field):
    """Empty: not sold to that tier. Otherwise an amount (crm.money.parse_money), not
    negative; the minor units are kept on the field as `minor`."""
    field.minor = None
    if not (field.data or "").strip():
        return
    try:
        minor = parse_money(field.data)
    except MoneyError as exc:
        raise ValidationError(str(exc)) from None
    if minor < 0:
        raise ValidationError("A price cannot be negative.")
    field.minor = minor


class _PriceListBase(FlaskForm):
    class Meta(Trimmed):
        pass

    seen = version_field()  # crm.orders.services.price_list_mark as the form was loaded


def price_list_form(products, prices: dict, *, formdata=None, seen: int = 0):
    """The price list form for the active `products`: one text field per size and tier
    (`form.rows`: [(product, size, [(tier, field)])]), filled from `prices` ({(product id,
    size, tier): minor units}) unless it is a posted form (`formdata`)."""
    fields, layout = {}, []
    for product in products:
        for size in product.size_list:
            cells = []
            for tier, tier_label in PRICING_TIERS.items():
                name = cell_name(product.id, size, tier)
                fields[name] = StringField(f"{product.name} {size}, {tier_label.lower()} price",
                                           validators=[Optional(strip_whitespace=False),
                                                       MaxLength(20), _money_cell])
                cells.append((tier, name, (product.id, size, tier)))
            layout.append((product, size, cells))
    form_class = type("PriceListForm", (_PriceListBase,), fields)
    if formdata is None:
        form = form_class(formdata=None)
        for _, _, cells in layout:
            for _, name, key in cells:
                form[name].data = money_input(prices.get(key))
        form.seen.data = seen
    else:
        form = form_class(formdata=formdata)
    form.rows = [(product, size, [(tier, form[name], key) for tier, name, key in cells])
                 for product, size, cells in layout]
    return form


def price_changes(form) -> dict:
    """{(product id, size, tier): minor units or None} for every cell of a valid form."""
    return {key: getattr(field, "minor", None) for _, _, cells in form.rows
            for _, field, key in cells}


# -- orders ---------------------------------------------------------------------------------

class LineForm(Form):
    """One line of an order; a row left empty is no line."""

    class Meta(Trimmed):
        pass

    product_id = IdField("Product", validate_choice=False)
    size = SelectField("Size", validate_choice=False, validators=[MaxLength(20)])
    quantity = IntegerField("Quantity", validators=[
        Optional(), NumberRange(1, 10000, "Between 1 and 10,000.")])
    packaging_id = IdField("Packaging", validate_choice=False)

    @property
    def empty(self) -> bool:
        typed = self.quantity.raw_data[0] if self.quantity.raw_data else ""
        return not (self.product_id.data or self.size.data or self.quantity.data or typed)

    def validate(self, extra_validators=None):
        """Field checks, then a row begun must be whole (Optional() stops inline validators
        on an empty field, so the checks live here)."""
        valid = super().validate(extra_validators)
        if self.empty:
            return valid
        missing = [(self.product_id, "Choose a product."), (self.size, "Choose a size."),
                   (self.quantity, "How many?")]
        problems = [(f, message) for f, message in missing if f.data in (None, "")
                    and not f.errors]
        for f, message in problems:
            f.errors = [*f.errors, message]
        return valid and not problems


def _future(form, field):
    if field.data and field.data < farm_today():
        raise ValidationError("That day has passed; choose today or later.")


class _Lines:
    """What the forms with lines share: the lines given (rows left empty skipped)."""

    def validate_lines(self, field):
        if not any(not entry.form.empty for entry in field.entries):
            raise ValidationError("Add at least one line.")

    def given_lines(self):
        from crm.orders.services import Line

        return [Line(e.form.product_id.data, e.form.size.data, e.form.quantity.data,
                     e.form.packaging_id.data) for e in self.lines.entries if not e.form.empty]


class NewOrderForm(_Lines, FlaskForm):
    delivery_date = DateField("Delivery date", validators=[
        InputRequired("Give the delivery date."), _future])
    # no min_entries: WTForms 3.3 renumbers a posted list's rows and then reads padding rows
    # from the posted data again (a row sent twice); rows are added for showing (pad_lines)
    lines = FieldList(FormField(LineForm), max_entries=50)
    form_key = FormKeyField()


class LinesForm(_Lines, FlaskForm):
    """An order's lines changed (a draft, or a confirmed order priced again)."""

    lines = FieldList(FormField(LineForm), max_entries=50)
    version = version_field()


class StandingOrderForm(FlaskForm):
    """An order from the customer's standing items, for its next delivery day (or a day
    given when the delivery plan names none)."""

    delivery_date = DateField("Delivery date", validators=[
        InputRequired("Give the delivery date."), _future])
    form_key = FormKeyField()


class DuplicateForm(FlaskForm):
    delivery_date = DateField("Delivery date of the copy", validators=[
        InputRequired("Give the delivery date."), _future])
    form_key = FormKeyField()


class ActionForm(FlaskForm):
    """Confirm, cancel, reopen, deliver, invoice: the version the order was shown at."""

    version = version_field()


class OverrideForm(FlaskForm):
    """Confirm past a credit block (credit.adjust), with the reason kept on the order."""

    class Meta(Trimmed):
        pass

    override = StringField("Why confirm anyway", validators=[
        DataRequired("Say why the order is confirmed past the block."), MaxLength(500)],
        description="Kept on the order, e.g. the owner vouched; pays on Friday.")
    version = version_field()


def pad_lines(form, rows: int):
    """Empty rows to fill in, up to `rows` in all."""
    while len(form.lines.entries) < form.lines.max_entries and (
            len(form.lines.entries) < rows):
        form.lines.append_entry()
    return form


def line_choices(form, products, packaging):
    """Fill the choices of every line row: active products and packaging, and all sizes."""
    active = [p for p in products if p.retired_at is None]
    product_choices = choices({"": "Choose…", **{str(p.id): p.name for p in active}})
    sizes = sorted({s for p in active for s in p.size_list})
    size_choices = choices({"": "—", **{s: s for s in sizes}})
    packaging_choices = choices({"": "None", **{str(p.id): p.name for p in packaging
                                               if p.retired_at is None}})
    for entry in form.lines.entries:
        entry.form.product_id.choices = product_choices
        entry.form.size.choices = size_choices
        entry.form.packaging_id.choices = packaging_choices
    return form


class OrdersForDayForm(FlaskForm):
    """Orders for a day (the job orders_for_date): which delivery day."""

    delivery_date = DateField("Delivery date", validators=[
        InputRequired("Give the delivery date."), _future])
    form_key = FormKeyField()
