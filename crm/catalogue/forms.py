from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, NumberRange
from wtforms.widgets import TextInput

from crm.catalogue.services import MAX_DAYS_TO_HARVEST, MAX_LOSS_PCT, MAX_TRAY_YIELD_G
from crm.forms import FormKeyField, MaxLength, strip, version_field


class ProductForm(FlaskForm):
    name = StringField("Product", filters=[strip],
                       validators=[DataRequired("Name the product."), MaxLength(80)])
    sizes = StringField("Sizes", filters=[strip], description="Comma-separated, e.g. 2 oz, 4 oz, 1 lb.",
                        validators=[DataRequired("Give at least one size."), MaxLength(200)])
    form_key = FormKeyField()


class NameForm(FlaskForm):
    name = StringField("Name", filters=[strip], validators=[DataRequired("Give a name."), MaxLength(60)])
    form_key = FormKeyField()


class WholeNumberField(IntegerField):
    """A whole number; what was typed comes back as typed with a clear reason ("2.5", "ten").
    A text box with a numeric keyboard, not type="number" (which drops what it cannot read)."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, message="", **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "numeric", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        typed = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if typed:
            if not (typed.isascii() and typed.lstrip("-").isdigit()) or len(typed) > 9:
                raise ValueError(self.message)
            self.data = int(typed)


class GrowingForm(FlaskForm):
    """A product's growing data, as the sowing plan uses it."""

    days_to_harvest = WholeNumberField(
        "Days to harvest", description="From sowing to harvest, e.g. 10.",
        message=f"Give the days as a whole number from 1 to {MAX_DAYS_TO_HARVEST}, e.g. 10.",
        validators=[InputRequired("Give the days from sowing to harvest."),
                    NumberRange(1, MAX_DAYS_TO_HARVEST,
                                f"Days to harvest is from 1 to {MAX_DAYS_TO_HARVEST}.")])
    tray_yield_g = WholeNumberField(
        "Yield per tray (g)", description="Grams harvested from one 10×20 tray, e.g. 350.",
        message=f"Give the grams as a whole number from 1 to {MAX_TRAY_YIELD_G:,}, e.g. 350.",
        validators=[InputRequired("Give the grams one tray yields."),
                    NumberRange(1, MAX_TRAY_YIELD_G,
                                f"Yield per tray is from 1 to {MAX_TRAY_YIELD_G:,} g.")])
    loss_pct = WholeNumberField(
        "Loss allowance (%)", description="Sown extra for trays that fail, 0 to 50.",
        message=f"Give the loss allowance as a whole number from 0 to {MAX_LOSS_PCT}, e.g. 10.",
        validators=[InputRequired("Give a loss allowance (0 for none)."),
                    NumberRange(0, MAX_LOSS_PCT,
                                f"Loss allowance is from 0 to {MAX_LOSS_PCT} %%.")])
    version = version_field()
