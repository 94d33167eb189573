"""Forms for people and addresses: everything typed is normalised before it is saved."""
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional

from crm import normalise
from crm.contacts.models import CONTACT_ROLES
from crm.contacts.services import MAX_CHANNELS
from crm.customers.forms import COUNTRIES, CustomerForm
from crm.customers.models import ADDRESS_KINDS
from crm.forms import (
    FormKeyField,
    IdField,
    MaxLength,
    choices,
    normalised,
    strip,
    version_field,
)
from crm.normalise import phone_display


class PersonForm(FlaskForm):
    """A person added to a customer: name, role, one email and one phone."""

    first_name = StringField("First name", filters=[strip],
                             validators=[DataRequired("Give the person a first name."),
                                         MaxLength(80)])
    last_name = StringField("Last name", filters=[strip], validators=[Optional(), MaxLength(80)])
    role = SelectField("Role here", choices=choices(CONTACT_ROLES), default="ordering")
    email = StringField("Email", filters=[strip], validators=[Optional(), MaxLength(254)])
    phone = StringField("Phone", filters=[strip], validators=[Optional(), MaxLength(30)])
    save_anyway = HiddenField()  # "1" once staff have seen the possible duplicates
    form_key = FormKeyField()

    def validate_email(self, field):
        normalised(field, normalise.email)

    def validate_phone(self, field):
        normalised(field, _phone_number)

    def person_data(self) -> dict:
        return {"first_name": normalise.person_name(self.first_name.data),
                "last_name": normalise.person_name(self.last_name.data, surname=True) or None,
                "email": self.email.data or None, "phone": self.phone.data or None}


def _phone_number(value):
    return normalise.phone(value, current_app.config["DEFAULT_PHONE_REGION"])


def _normalised_rows(rows, normaliser, repeated: str) -> bool:
    """Put each filled row's value in its normal form; False if any is invalid or repeated."""
    ok, seen = True, set()
    for row in rows:
        if not row.value.data:
            continue
        try:
            row.value.data = normaliser(row.value.data)
        except ValueError as exc:
            row.value.errors = [*row.value.errors, str(exc)]
            ok = False
            continue
        if row.value.data in seen:
            row.value.errors = [*row.value.errors, repeated]
            ok = False
        seen.add(row.value.data)
    return ok


class ChannelRow(Form):
    """One email or phone of a contact; clearing the value removes it."""

    value = StringField(filters=[strip], validators=[Optional(), MaxLength(254)])
    opted_out = BooleanField("Opted out")
    invalid = BooleanField("Invalid")


class ContactForm(FlaskForm):
    """A contact's name, notes, emails and phones (with one primary each), and, when edited
    from a customer's page, their role there."""

    first_name = StringField("First name", filters=[strip],
                             validators=[DataRequired("Give the person a first name."),
                                         MaxLength(80)])
    last_name = StringField("Last name", filters=[strip], validators=[Optional(), MaxLength(80)])
    role = SelectField("Role here", choices=choices(CONTACT_ROLES))
    notes = TextAreaField("Notes", filters=[strip], validators=[Optional(), MaxLength(4000)])
    emails = FieldList(FormField(ChannelRow), min_entries=1)
    phones = FieldList(FormField(ChannelRow), min_entries=1)
    primary_email = RadioField("Primary email", choices=[], validate_choice=False)
    primary_phone = RadioField("Primary phone", choices=[], validate_choice=False)
    version = version_field()
    channel_limit = MAX_CHANNELS  # per kind; the service refuses more (TooManyChannels)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        ok = _normalised_rows(self.emails, normalise.email, "This email is already listed.") and ok
        ok = _normalised_rows(self.phones, _phone_number, "This number is already listed.") and ok
        if not self.row_errors_noted():
            ok = False
        return ok

    def row_errors_noted(self) -> bool:
        """Errors on email/phone rows are not in the form's errors (a FieldList collects its
        entries' errors only while validating): name them in the error summary. False if any."""
        if any(row.value.errors for row in [*self.emails, *self.phones]):
            message = "Check the emails and phones marked below."
            if message not in self.form_errors:
                self.form_errors.append(message)
            return False
        return True

    def channels(self, rows, primary) -> list[dict]:
        """The filled rows as dicts {value, opted_out, invalid, is_primary}; the chosen primary
        (or else the first) is primary."""
        filled = [(str(i), row) for i, row in enumerate(rows) if row.value.data]
        chosen = primary.data if primary.data in {i for i, _ in filled} else (
            filled[0][0] if filled else None)
        return [{"value": row.value.data, "opted_out": row.opted_out.data,
                 "invalid": row.invalid.data, "is_primary": i == chosen} for i, row in filled]


class AddressForm(FlaskForm):
    """A billing or delivery address, standardised: state/province codes, postal-code format
    per country."""

    kind = SelectField("Kind", choices=choices(ADDRESS_KINDS), default="delivery")
    street = StringField("Street", filters=[strip],
                         validators=[DataRequired("An address needs a street."), MaxLength(200)])
    street2 = StringField("Apt, suite, unit", filters=[strip],
                          validators=[Optional(), MaxLength(200)])
    city = StringField("City", filters=[strip],
                       validators=[DataRequired("An address needs a city."), MaxLength(100)])
    region = StringField("State / province", filters=[strip],
                         validators=[Optional(), MaxLength(50)])
    postal_code = StringField("ZIP / postal code", filters=[strip],
                              validators=[Optional(), MaxLength(20)])
    country = SelectField("Country", choices=choices(COUNTRIES), default="US")
    delivery_instructions = TextAreaField("Delivery instructions", filters=[strip],
                                          validators=[Optional(), MaxLength(1000)])
    version = version_field()

    def validate_region(self, field):
        normalised(field, normalise.region, self.country.data)

    def validate_postal_code(self, field):
        normalised(field, normalise.postal_code, self.country.data)

    def address_data(self) -> dict:
        return {"kind": self.kind.data, "street": normalise.clean_text(self.street.data),
                "street2": normalise.clean_text(self.street2.data) or None,
                "city": normalise.clean_text(self.city.data), "region": self.region.data or None,
                "postal_code": self.postal_code.data or None, "country": self.country.data,
                "delivery_instructions": self.delivery_instructions.data or None}


class NewAddressForm(AddressForm):
    """An address added to a customer."""

    form_key = FormKeyField()


class NewCustomerForm(CustomerForm):
    """The customer with its primary contact and delivery address, on one form."""

    form_key = FormKeyField()

    first_name = StringField("First name", validators=[Optional(), MaxLength(80)])
    last_name = StringField("Last name", validators=[Optional(), MaxLength(80)])
    email = StringField("Email", validators=[Optional(), MaxLength(254)])
    phone = StringField("Phone", validators=[Optional(), MaxLength(30)])
    street = StringField("Street", validators=[Optional(), MaxLength(200)])
    street2 = StringField("Apt, suite, unit", validators=[Optional(), MaxLength(200)])
    city = StringField("City", validators=[Optional(), MaxLength(100)])
    region = StringField("State / province", validators=[Optional(), MaxLength(50)])
    postal_code = StringField("ZIP / postal code", validators=[Optional(), MaxLength(20)])
    country = SelectField("Country", choices=choices(COUNTRIES), default="US")
    delivery_instructions = TextAreaField(
        "Delivery instructions", validators=[Optional(), MaxLength(1000)]
    )
    # After the possible duplicates were shown, the button pressed: "Use <person>" sends the
    # id of that person on record, "Create with a new person anyway" sends new_contact.
    contact_choice = IdField("Primary contact on record", validate_choice=False)
    new_contact = BooleanField("A new person anyway")

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


def contact_form(contact, customer, formdata=None):
    """A person's edit form: their emails and phones as rows (one empty row to add one), the
    primary ones chosen, their role at `customer` (when editing on its tab)."""
    form = ContactForm(formdata=formdata, prefix=f"contact-{contact.id}",
                       obj=None if formdata else contact)
    if formdata is None:
        for rows, items, attr in ((form.emails, contact.emails, "email"),
                                  (form.phones, contact.phones, "phone")):
            while len(rows):
                rows.pop_entry()
            for item in items:
                value = getattr(item, attr)
                if attr == "phone":
                    value = phone_display(value, current_app.config["DEFAULT_PHONE_REGION"])
                rows.append_entry({"value": value, "opted_out": item.opted_out,
                                   "invalid": item.invalid})
            if len(items) < MAX_CHANNELS:
                rows.append_entry()  # room for one more
        form.primary_email.data = next((str(i) for i, e in enumerate(contact.emails)
                                        if e.is_primary), "0")
        form.primary_phone.data = next((str(i) for i, p in enumerate(contact.phones)
                                        if p.is_primary), "0")
        form.version.data = contact.version
        roles = [link.role for link in contact.customer_links
                 if customer and link.customer_id == customer.id]
        form.role.data = roles[0] if roles else "ordering"
    return form
