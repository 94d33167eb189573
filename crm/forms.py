"""Form helpers every feature's forms use: choices, trimming, normalising, length limits, the
version field, the one-time key of a form that creates, the fields that carry a record's id; and
a faster html_params for WTForms' widgets."""
import re
import secrets
from functools import lru_cache

import wtforms.widgets
import wtforms.widgets.core
from markupsafe import Markup, escape
from wtforms import HiddenField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length, ValidationError

from crm.common import parse_id, too_long

NOT_AN_ID = "Choose one from the list."

WTFORMS_HTML_PARAMS = wtforms.widgets.core.html_params


@lru_cache(maxsize=512)
def _attribute(key: str) -> str:
    """An attribute name as html_params writes it (keys come from code: a bounded set)."""
    return str(escape(wtforms.widgets.core.clean_key(key)))


def html_params(**kwargs) -> Markup:
    """WTForms' html_params with the same output (tests compare the two), three times as fast.
    Every label, input and option of every form goes through it (the quick log: 45 calls);
    WTForms builds each `key="value"` with Markup.format, which runs string.Formatter, and
    Markup.replace. Here the same escaped pieces are joined as text."""
    params = []
    for key, value in sorted(kwargs.items()):
        if value is True:
            params.append(_attribute(key))
        elif value is not False:
            value = str(escape(value))
            if '"' in value:  # only in a value that was Markup already
                value = value.replace('"', "&quot;")
            params.append(f'{_attribute(key)}="{value}"')
    return Markup(" ".join(params))


def _use_faster_html_params():
    """Where WTForms' widgets and labels find html_params: the module function (Select,
    TextArea, options), its re-export (Label) and the inputs' and buttons' own attribute."""
    core = wtforms.widgets.core
    for owner, name in ((core, "html_params"), (wtforms.widgets, "html_params"),
                        (core.Input, "html_params"), (core.Button, "html_params")):
        if getattr(owner, name) is not WTFORMS_HTML_PARAMS:
            raise RuntimeError(f"WTForms changed: {owner.__name__}.{name} is not html_params")
        setattr(owner, name, staticmethod(html_params) if isinstance(owner, type)
                else html_params)


_use_faster_html_params()


def choices(mapping: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in mapping.items()]


def record_id(value) -> int | None:
    """Coerce what an id field holds (posted text, or the id an object has) to the id, or None
    for "none chosen" (empty). Text that crm.common.parse_id does not read as an id (not ASCII
    digits, 0, more than MAX_ID) is a ValueError: the field gets NOT_AN_ID, the form a 422."""
    if value is None or value == "":
        return None
    found = parse_id(str(value))
    if found is None:
        raise ValueError(NOT_AN_ID)
    return found


class IdField(SelectField):
    """A select (or radio buttons) whose value is a record's id: `data` is an int or None, never
    text; every form field that carries an id is one (or an IdsField). Whether the id is one the
    user may choose is still the form's or the service's to check (`validate_choice` on, or
    off and a validator); this field only guarantees a well-formed id."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=record_id,
                         invalid_value_message=NOT_AN_ID, **kwargs)


class IdsField(SelectMultipleField):
    """Several ids (checkboxes, a multiple select): `data` is a list of ints; see IdField."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=record_id,
                         invalid_value_message=NOT_AN_ID, **kwargs)


def normalised(field, normaliser, *args):
    """Replace the field's data by its normal form, or fail validation with the reason."""
    try:
        field.data = normaliser(field.data, *args)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class MaxLength(Length):
    """At most `max` characters, or the field says so with the length it has ("120 characters
    at most (this has 5,000)."). Every length limit on a form is one. The field macro renders
    the limit as `data-maxlength` (a live counter, app.js) and never as `maxlength`, which cuts
    a paste short without a word."""

    def __init__(self, max: int):
        super().__init__(max=max)

    def __call__(self, form, field):
        length = len(field.data or "")
        if length > self.max:
            raise ValidationError(too_long(self.max, length))


class MoneyField(StringField):
    """An amount in the farm's currency, read with crm.money.parse_money into minor units
    (`data` an int; None when left empty). What was typed comes back as typed when it is not
    an amount, with the reason; `minimum` (minor units) refuses less, e.g. 1 for "more than
    zero". Shown with inputmode="decimal", never type="number" (which would drop "12,50")."""

    def __init__(self, label=None, validators=None, minimum=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)
        self.minimum = minimum
        self.typed = None

    def process_formdata(self, valuelist):
        from crm.money import MoneyError, parse_money

        self.typed = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not self.typed:
            return
        try:
            self.data = parse_money(self.typed)
        except MoneyError as exc:
            raise ValueError(str(exc)) from None
        if self.minimum is not None and self.data < self.minimum:
            from crm.money import format_money

            self.data = None
            raise ValueError("It must be more than zero." if self.minimum == 1
                             else f"It must be at least {format_money(self.minimum)}.")

    def _value(self):
        from crm.money import money_input

        if self.typed is not None and (self.errors or self.data is None):
            return self.typed
        return money_input(self.data)


def version_field():
    """The version a form was loaded at. Tampered or missing reads as 0: the save is then
    refused as a conflict."""
    return HiddenField(filters=[lambda v: int(v) if str(v or "").isdigit() else 0])


FORM_KEY = re.compile(r"[A-Za-z0-9_-]{22,64}")
FORM_OUT_OF_DATE = "This form is out of date. Check it and send it again."


def new_form_key() -> str:
    return secrets.token_urlsafe(16)


class FormKeyField(HiddenField):
    """The one-time key of a form that creates something: a new random key each time the form
    is shown, sent back with it. The view claims it in the transaction that creates
    (crm.web.claim), so the same form sent twice (a double click, a retry, Back and send
    again) creates once and the second send is answered with the first one's result
    (crm.web.replayed). Every form that creates has one, as `form_key = FormKeyField()`.

    A missing or malformed key (a page from before this field, a hand-made request) fails
    validation with FORM_OUT_OF_DATE and a fresh key, so sending the form again works. It is
    rendered without an id: several forms on one page each have one."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, default=new_form_key, **kwargs)

    def __call__(self, **kwargs):
        return super().__call__(**{"id": False, **kwargs})

    def process_formdata(self, valuelist):
        self.data = valuelist[0] if valuelist else None  # sent without one: not the default

    def pre_validate(self, form):
        if not FORM_KEY.fullmatch(self.data or ""):
            self.data = new_form_key()
            raise ValidationError(FORM_OUT_OF_DATE)


def strip(value):
    return value.strip() if isinstance(value, str) else value


class Trimmed:
    """Form Meta: every string field is trimmed before validation."""

    def bind_field(self, form, unbound_field, options):
        options["filters"] = [strip, *unbound_field.kwargs.get("filters", ())]
        return unbound_field.bind(form=form, **options)
