from flask import current_app
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from crm.contacts import normalise
from crm.customers.models import KINDS, PRICING_TIERS, STATUSES

COUNTRIES = {"US": "United States", "CA": "Canada", "GB": "United Kingdom"}


def choices(mapping: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in mapping.items()]


def normalised(field, normaliser, *args):
    """Replace the field's data by its normal form, or fail validation with the reason."""
    try:
        field.data = normaliser(field.data, *args)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def version_field():
    """The version a form was loaded at. Tampered or missing reads as 0: the save is then
    refused as a conflict."""
    return HiddenField(filters=[lambda v: int(v) if str(v or "").isdigit() else 0])


def strip(value):
    return value.strip() if isinstance(value, str) else value


class CustomerForm(FlaskForm):
    class Meta:
        # Every string field is trimmed before validation.
        def bind_field(self, form, unbound_field, options):
            options["filters"] = [strip, *unbound_field.kwargs.get("filters", ())]
            return unbound_field.bind(form=form, **options)

    name = StringField("Name", validators=[DataRequired("Give the customer a name."), Length(max=120)])
    kind = SelectField("Kind", choices=choices(KINDS))
    status = SelectField("Status", choices=choices(STATUSES))
    pricing_tier = SelectField("Pricing tier", choices=choices(PRICING_TIERS))
    owner_id = SelectField("Account owner", coerce=str, validate_choice=True)
    parent_number = StringField(
        "Parent account",
        validators=[Optional(), Length(max=20)],
        description="For a location of a restaurant group: the group's number, e.g. CUST-00012.",
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000)])
    version = version_field()

    def validate_parent_number(self, field):
        from crm.customers.services import find_by_number

        parent = find_by_number(field.data)
        if parent is None:
            raise ValidationError("No customer has that number.")
        if parent.is_archived:
            raise ValidationError("That customer is archived; restore it first.")
        ancestor, own_id = parent, getattr(self, "customer_id", None)
        while ancestor is not None:  # walk up: no customer may end up above itself
            if ancestor.id == own_id:
                raise ValidationError(
                    "A customer cannot be its own parent." if parent.id == own_id
                    else "That customer is already one of this customer's locations."
                )
            ancestor = ancestor.parent
        self.parent = parent


class NewCustomerForm(CustomerForm):
    """The customer with its primary contact and delivery address, on one form."""

    first_name = StringField("First name", validators=[Optional(), Length(max=80)])
    last_name = StringField("Last name", validators=[Optional(), Length(max=80)])
    email = StringField("Email", validators=[Optional(), Length(max=254)])
    phone = StringField("Phone", validators=[Optional(), Length(max=30)])
    street = StringField("Street", validators=[Optional(), Length(max=200)])
    street2 = StringField("Apt, suite, unit", validators=[Optional(), Length(max=200)])
    city = StringField("City", validators=[Optional(), Length(max=100)])
    region = StringField("State / province", validators=[Optional(), Length(max=50)])
    postal_code = StringField("ZIP / postal code", validators=[Optional(), Length(max=20)])
    country = SelectField("Country", choices=choices(COUNTRIES), default="US")
    delivery_instructions = TextAreaField(
        "Delivery instructions", validators=[Optional(), Length(max=1000)]
    )

    CONTACT_FIELDS = ("first_name", "last_name", "email", "phone")
    ADDRESS_FIELDS = ("street", "street2", "city", "region", "postal_code", "delivery_instructions")

    def validate_email(self, field):
        normalised(field, normalise.email)

    def validate_phone(self, field):
        normalised(field, normalise.phone, current_app.config["DEFAULT_PHONE_REGION"])

    def validate_postal_code(self, field):
        normalised(field, normalise.postal_code, self.country.data)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if any(getattr(self, f).data for f in self.CONTACT_FIELDS) and not self.first_name.data:
            self.first_name.errors = [*self.first_name.errors, "The contact needs a first name."]
            ok = False
        if any(getattr(self, f).data for f in self.ADDRESS_FIELDS):
            for name, label in (("street", "street"), ("city", "city")):
                field = getattr(self, name)
                if not field.data:
                    field.errors = [*field.errors, f"A delivery address needs a {label}."]
                    ok = False
        return ok

    def contact_data(self):
        if not self.first_name.data:
            return None
        return {
            "first_name": normalise.person_name(self.first_name.data),
            "last_name": normalise.person_name(self.last_name.data, surname=True) or None,
            "email": self.email.data or None,
            "phone": self.phone.data or None,
        }

    def address_data(self):
        if not self.street.data:
            return None
        return {
            "street": self.street.data,
            "street2": self.street2.data or None,
            "city": self.city.data,
            "region": (self.region.data or "").upper() or None,
            "postal_code": self.postal_code.data or None,
            "country": self.country.data,
            "delivery_instructions": self.delivery_instructions.data or None,
        }
