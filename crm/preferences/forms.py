from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    InputRequired,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from crm.forms import FormKeyField, IdField, IdsField, MaxLength, choices, version_field
from crm.preferences.models import (
    CHANNELS,
    CONSENT_SOURCES,
    FREQUENCIES,
    INVOICE_METHODS,
    SUBSTITUTION_POLICIES,
    WEEKDAYS,
)


class Checkboxes(SelectMultipleField):
    """A set of checkboxes (weekdays, channels)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class IdCheckboxes(IdsField):
    """A set of checkboxes whose values are ids (products liked)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _ids(values):
    return {v for v in values or () if v is not None}


class PlanForm(FlaskForm):
    """Delivery schedule, route, packaging needs and service expectations."""

    weekdays = Checkboxes("Delivery days", choices=choices({str(i): d for i, d in enumerate(WEEKDAYS)}))
    frequency = SelectField("How often", choices=choices(FREQUENCIES))
    anchor_date = DateField("A delivery date in an on-week", validators=[Optional()],
                            description="Every other week counts from the week of this date.")
    window_start = TimeField("Window from", validators=[Optional()])
    window_end = TimeField("Window until", validators=[Optional()])
    route_id = IdField("Route", invalid_choice_message="Choose a route from the list.")
    stop_order = IntegerField("Stop number", validators=[Optional(), NumberRange(1, 999)])
    delivery_instructions = TextAreaField("Delivery instructions",
                                          validators=[Optional(), MaxLength(1000)])
    returnables = BooleanField("Returnable crates")
    compostable_only = BooleanField("Compostable packaging only")
    labelling = StringField("Labelling", validators=[Optional(), MaxLength(200)],
                            description="E.g. label each clamshell with the harvest date.")
    invoice_method = SelectField("Invoices by", choices=choices(INVOICE_METHODS))
    call_ahead = BooleanField("Call ahead before arriving")
    substitution_policy = SelectField("Substitutions", default="ask",
                                      choices=choices(SUBSTITUTION_POLICIES))
    special_handling = TextAreaField("Special handling", validators=[Optional(), MaxLength(1000)])
    version = version_field()

    def validate(self, extra_validators=None):
        """Field checks, then the ones across fields (Optional() stops inline validators on an
        empty field, so they live here)."""
        valid = super().validate(extra_validators)
        start, end = self.window_start.data, self.window_end.data
        problems = []
        if not self.window_start.errors and not self.window_end.errors:
            if (start is None) != (end is None):
                problems.append((self.window_end, "Give both ends of the window, or neither."))
            elif start and end and end <= start:
                problems.append((self.window_end, "The window ends before it starts."))
        if self.frequency.data == "biweekly" and self.anchor_date.data is None \
                and not self.anchor_date.errors:
            problems.append((self.anchor_date,
                             "Every other week needs a delivery date to count from."))
        for field, message in problems:
            field.errors = [*field.errors, message]
        return valid and not problems

    def validate_weekdays(self, field):
        if self.route_id.data and not field.data:
            raise ValidationError("Tick the days this customer takes deliveries.")

    def data_for_service(self) -> dict:
        return {
            "weekdays": sum(1 << int(d) for d in self.weekdays.data or ()),
            "frequency": self.frequency.data,
            "anchor_date": self.anchor_date.data,
            "window_start": self.window_start.data,
            "window_end": self.window_end.data,
            "route_id": self.route_id.data,
            "stop_order": self.stop_order.data,
            "returnables": self.returnables.data,
            "compostable_only": self.compostable_only.data,
            "labelling": (self.labelling.data or "").strip() or None,
            "invoice_method": self.invoice_method.data,
            "call_ahead": self.call_ahead.data,
            "substitution_policy": self.substitution_policy.data,
            "special_handling": (self.special_handling.data or "").strip() or None,
            "delivery_instructions": (self.delivery_instructions.data or "").strip() or None,
        }


class StandingItemForm(FlaskForm):
    product_id = IdField("Product", validate_choice=False)
    size = SelectField("Size", validate_choice=False,
                       validators=[InputRequired("Choose a size."), MaxLength(20)])
    quantity = IntegerField("Quantity", validators=[
        InputRequired("How many per delivery?"),
        NumberRange(1, 100, "Between 1 and 100 per delivery.")])
    packaging_id = IdField("Packaging", validate_choice=False)
    substitutions_allowed = BooleanField("Substitutes allowed")
    substitute_ids = IdCheckboxes("Acceptable substitutes", validate_choice=False)
    form_key = FormKeyField()

    def data_for_service(self) -> dict:
        return {
            "product_id": self.product_id.data,
            "size": self.size.data.strip(),
            "quantity": self.quantity.data,
            "packaging_id": self.packaging_id.data,
            "substitutions_allowed": self.substitutions_allowed.data,
            "substitute_ids": sorted(_ids(self.substitute_ids.data)) if self.substitutions_allowed.data else [],
        }


class LikesForm(FlaskForm):
    likes = IdCheckboxes("Likes", validate_choice=False)
    dislikes = IdCheckboxes("Never send", validate_choice=False)
    seen = version_field()  # the history as it was loaded (services.last_change)

    def data_for_service(self):
        return _ids(self.likes.data), _ids(self.dislikes.data)


class PauseForm(FlaskForm):
    starts_on = DateField("From", validators=[InputRequired("Give the first day of the pause.")])
    ends_on = DateField("Until", validators=[InputRequired("Give the last day of the pause.")])
    reason = StringField("Reason", validators=[Optional(), MaxLength(200)],
                         description="E.g. closed for the holidays, away in August.")
    form_key = FormKeyField()

    def validate_ends_on(self, field):
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError("The pause ends before it starts.")


class ContactPreferenceForm(FlaskForm):
    channels = Checkboxes("Reach them by", choices=choices(CHANNELS))
    preferred = SelectField("Preferred", default="", choices=choices({"": "No preference", **CHANNELS}))
    marketing_consent = BooleanField("Agrees to marketing messages")
    consent_source = SelectField("Consent given", default="",
                                 choices=choices({"": "—", **CONSENT_SOURCES}))
    seen = version_field()  # the history as it was loaded (services.last_change)

    def validate_preferred(self, field):
        if field.data and field.data not in (self.channels.data or []):
            raise ValidationError("The preferred channel must be one of the channels ticked.")

    def validate_consent_source(self, field):
        if self.marketing_consent.data and not field.data:
            raise ValidationError("Say how the consent was given.")

    def data_for_service(self):
        return {"channels": list(self.channels.data or []), "preferred": self.preferred.data or None,
                "marketing_consent": self.marketing_consent.data,
                "consent_source": self.consent_source.data or None}


# -- the tab's forms, filled from what is saved ---------------------------------------------

def section_forms(customer, prefs, products, packaging, routes, given, seen=None):
    """Every section's form: the one just posted (with its errors) or a fresh one; `seen`
    (services.seen_marks) what the history held when it was loaded."""
    active = [p for p in products if p.retired_at is None]
    plan, address = prefs["plan"], customer.delivery_address
    forms = {}
    forms["plan"] = given.get("plan") or PlanForm(formdata=None, obj=plan)
    forms["plan"].route_id.choices = choices({"": "No route", **{str(r.id): r.name for r in routes}})
    if "plan" not in given:
        forms["plan"].weekdays.data = [str(i) for i in range(7) if plan and plan.weekdays & (1 << i)]
        forms["plan"].route_id.data = plan.route_id if plan else None
        forms["plan"].version.data = plan.version if plan else ""
        forms["plan"].delivery_instructions.data = address.delivery_instructions if address else ""
    forms["item"] = given.get("item") or StandingItemForm(formdata=None)
    forms["item"].product_id.choices = choices({"": "Choose…", **{str(p.id): p.name for p in active}})
    sizes = sorted({s for p in active for s in p.size_list})
    forms["item"].size.choices = choices({"": "Choose…", **{s: s for s in sizes}})
    forms["item"].packaging_id.choices = choices(
        {"": "Choose…", **{str(p.id): p.name for p in packaging if p.retired_at is None}})
    forms["item"].substitute_ids.choices = choices({str(p.id): p.name for p in active})
    forms["likes"] = given.get("likes") or LikesForm(formdata=None)
    offered = choices({str(p.id): p.name for p in active})
    forms["likes"].likes.choices = forms["likes"].dislikes.choices = offered
    if "likes" not in given:
        forms["likes"].likes.data = [p.product_id for p in prefs["likes"] if p.kind == "like"]
        forms["likes"].dislikes.data = [p.product_id for p in prefs["likes"] if p.kind == "dislike"]
        forms["likes"].seen.data = (seen or {}).get("likes", 0)
    forms["pause"] = given.get("pause") or PauseForm(formdata=None)
    return forms


def contact_forms(customer, saved, given, seen=None):
    """One channels-and-consent form per contact, each with its own field ids; `saved`
    {contact id: ContactPreference}; `seen` as in section_forms."""
    forms = {}
    for link in customer.contact_links:
        if link.contact_id in forms:
            continue
        form = given.get(link.contact_id)
        if form is None:
            form = ContactPreferenceForm(formdata=None, prefix=f"c{link.contact_id}")
            form.seen.data = (seen or {}).get(link.contact_id, 0)
            pref = saved.get(link.contact_id)
            if pref:
                form.channels.data = pref.channel_list
                form.preferred.data = pref.preferred or ""
                form.marketing_consent.data = pref.marketing_consent
                form.consent_source.data = pref.consent_source or ""
        forms[link.contact_id] = (link.contact, form, saved.get(link.contact_id))
    return forms
