from datetime import datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    InputRequired,
    NumberRange,
    Optional,
    ValidationError,
)

from crm.common import farm_zone
from crm.communications.models import (
    CHANNELS,
    DIRECTIONS,
    TICKET_STATUSES,
    VISIBILITIES,
)
from crm.forms import FormKeyField, IdField, MaxLength, choices, version_field

# What the quick log's channel offers: a ticket is opened with its own button, never by a
# remembered or preselected channel.
LOG_CHANNELS = {key: label for key, label in CHANNELS.items() if key != "ticket"}
NOT_A_LOG_CHANNEL = "Choose a channel from the list; to open a ticket, use “Open a ticket”."


def staff_choices(users, empty: str):
    return choices({"": empty, **{str(u.id): u.name for u in users}})


def _text(field):
    return (field.data or "").strip() or None


class QuickLogForm(FlaskForm):
    """Log a call (or any interaction) in a few keystrokes; optionally with a follow-up."""

    channel = SelectField("Channel", choices=choices(LOG_CHANNELS),
                          invalid_choice_message=NOT_A_LOG_CHANNEL)
    direction = SelectField("Direction", choices=choices(DIRECTIONS))
    contact_id = IdField("With", invalid_choice_message="That contact is not linked to this customer.")
    occurred_at = DateTimeLocalField("When", validators=[InputRequired("Say when it happened.")])
    duration_minutes = IntegerField(
        "Minutes", validators=[Optional(), NumberRange(0, 600, "Between 0 and 600 minutes.")]
    )
    subject = StringField("Subject", validators=[Optional(), MaxLength(200)])
    body = TextAreaField("What was said", validators=[MaxLength(20000)])  # no Optional: a note needs it
    outcome = StringField("Outcome", validators=[Optional(), MaxLength(200)],
                          description="E.g. left voicemail, order confirmed, call back Friday.")
    visibility = SelectField("Visibility", choices=choices(VISIBILITIES))
    follow_up_due = DateField("Follow up by", validators=[Optional()])
    follow_up_assignee_id = IdField("Follow-up for",
                                    invalid_choice_message="Choose someone from the list.")
    open_ticket = BooleanField()  # sent by the "Open a ticket" button only
    form_key = FormKeyField()

    def set_choices(self, contacts, staff):
        """contacts: {id: name} this entry may be with; staff: who may get a follow-up."""
        if self.contact_id:
            self.contact_id.choices = choices(
                {"": "— nobody in particular —", **{str(k): v for k, v in contacts.items()}})
        self.follow_up_assignee_id.choices = staff_choices(staff, "Me")

    def validate_body(self, field):
        if self.channel.data == "note" and not (field.data or "").strip():
            raise ValidationError("A note needs some text.")

    def validate_follow_up_assignee_id(self, field):
        if field.data and not self.follow_up_due.data:
            raise ValidationError("Give the follow-up a due date too.")

    def validate_occurred_at(self, field):
        if field.data and not 2000 <= field.data.year <= 2100:
            raise ValidationError("Check the year.")

    def data_for_service(self) -> dict:
        local = self.occurred_at.data.replace(tzinfo=farm_zone())
        return {
            "channel": "ticket" if self.open_ticket and self.open_ticket.data else self.channel.data,
            "direction": self.direction.data,
            "contact_id": self.contact_id.data if self.contact_id else None,
            "occurred_at": local.astimezone(ZoneInfo("UTC")),
            "duration_minutes": self.duration_minutes.data,
            "subject": _text(self.subject),
            "body": _text(self.body),
            "outcome": _text(self.outcome),
            "visibility": self.visibility.data,
            "follow_up_due": self.follow_up_due.data,
            "follow_up_assignee_id": self.follow_up_assignee_id.data,
        }

    def set_defaults(self, primary_contact_id: int | None, channel: str | None):
        """Now (farm time), the primary contact, the user's last channel."""
        self.occurred_at.data = datetime.now(farm_zone()).replace(second=0, microsecond=0,
                                                                  tzinfo=None)
        if self.contact_id:
            self.contact_id.data = primary_contact_id
        if channel in LOG_CHANNELS:
            self.channel.data = channel


class ContactLogForm(QuickLogForm):
    """The quick log on a contact's page: the person is given, the customer is chosen."""

    contact_id = None
    customer_id = IdField("Customer", invalid_choice_message="Choose one of this contact's customers.")


class EntryForm(QuickLogForm):
    """Editing a logged entry: the same fields, plus the version it was loaded at."""

    channel = SelectField("Channel", choices=choices(CHANNELS))  # entry_form narrows them
    open_ticket = form_key = None
    version = version_field()

    def load(self, entry):
        zone = farm_zone()
        self.occurred_at.data = entry.occurred_at.astimezone(zone).replace(tzinfo=None)
        self.contact_id.data = entry.contact_id
        self.follow_up_assignee_id.data = entry.follow_up_assignee_id
        self.version.data = entry.version


class TicketForm(FlaskForm):
    status = SelectField("Status", choices=choices(TICKET_STATUSES))
    assignee_id = IdField("Assignee", invalid_choice_message="Choose someone from the list.")
    version = version_field()

    def data_for_service(self) -> dict:
        return {"status": self.status.data, "assignee_id": self.assignee_id.data}


class ReplyForm(FlaskForm):
    """A message added to a ticket's thread."""

    direction = SelectField("Direction", choices=choices(DIRECTIONS))
    form_key = FormKeyField()
    body = TextAreaField("Message", validators=[
        InputRequired("Write the message."), MaxLength(20000)])

    def validate_body(self, field):
        if not field.data.strip():
            raise ValidationError("Write the message.")


class NewTicketForm(FlaskForm):
    """The tickets page's "New ticket": for which customer (typed, found by name or number;
    `customer_id` is the pick when several match), the subject and the first message."""

    customer = StringField("Customer", validators=[
        InputRequired("Type the customer's name or number."), MaxLength(200)],
        description="Part of the name, or the number (CUST-00012).")
    customer_id = IdField("Which customer?", validate_choice=False)
    subject = StringField("Subject", validators=[InputRequired("Say what the ticket is about."),
                                                 MaxLength(200)])
    direction = SelectField("Direction", choices=choices(DIRECTIONS), default="inbound")
    body = TextAreaField("First message", validators=[Optional(), MaxLength(20000)],
                         description="What the customer reported, or what needs doing.")
    assignee_id = IdField("Assignee", invalid_choice_message="Choose someone from the list.")
    form_key = FormKeyField()

    def validate_subject(self, field):
        if not field.data.strip():
            raise ValidationError("Say what the ticket is about.")

    def data_for_service(self, now) -> dict:
        return {"direction": self.direction.data, "subject": _text(self.subject),
                "body": _text(self.body), "occurred_at": now, "visibility": "internal"}


class RescheduleForm(FlaskForm):
    """A follow-up's new due date: typed (Reschedule) or a snooze button's (+1 day, +1 week),
    which carries its date, so the same button sent twice moves it once."""

    follow_up_due = DateField("New due date", validators=[Optional()])
    snooze = DateField(validators=[Optional()])

    def due(self):
        return self.snooze.data or self.follow_up_due.data

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if self.due() is None:  # (Optional() ends a field's own checks when it is empty)
            self.follow_up_due.errors = [*self.follow_up_due.errors, "Choose the new due date."]
            return False
        return True


class EmailFileForm(FlaskForm):
    """Log an email from a saved .eml file."""

    file = FileField("Email file (.eml)", validators=[FileRequired("Choose an .eml file.")],
                     description="Save the email from your mail program as a file first.")
    form_key = FormKeyField()


# -- the forms with their choices, as the views use them -------------------------------------

def people_choices(customer) -> dict:
    return {link.contact_id: link.contact.full_name for link in customer.contact_links}


def primary_contact_id(customer):
    return next((l.contact_id for l in customer.contact_links if l.role == "primary"), None)


def keep_choice(field, current, label):
    """Add the record's current value to a select's choices when it is no longer offered."""
    if current is not None and str(current.id) not in {c.value for c in field.choices}:
        field.choices = [*field.choices, *choices({str(current.id): label(current)})]


def quick_log_form(customer, staff, formdata=None):
    """The quick log of a customer's tab; `staff`: who a follow-up can be given to."""
    form = QuickLogForm(formdata=formdata)
    form.set_choices(people_choices(customer), staff)
    return form


def contact_log_form(contact, staff, formdata=None):
    """The quick log on a contact's page: which of their (unarchived) customers it was with."""
    form = ContactLogForm(formdata=formdata)
    form.set_choices({}, staff)
    customers = {str(l.customer.id): l.customer.name for l in contact.customer_links
                 if not l.customer.is_archived}
    form.customer_id.choices = choices(customers)
    return form


def entry_form(entry, customer, staff, formdata=None):
    """Editing one entry; what it has now stays choosable, even if unlinked or disabled since."""
    # A prefix per entry: the edit form's ids must not clash with the quick log's on the page.
    form = EntryForm(formdata=formdata, obj=entry if formdata is None else None,
                     prefix=f"entry-{entry.id}")
    form.set_choices(people_choices(customer), staff)
    keep_choice(form.contact_id, entry.contact, lambda c: f"{c.full_name} (no longer linked)")
    keep_choice(form.follow_up_assignee_id, entry.follow_up_assignee,
                lambda u: f"{u.name} (inactive)")
    if formdata is None:
        form.load(entry)
    if entry.channel == "ticket":  # a ticket message stays one
        form.channel.choices = [c for c in form.channel.choices if c.value == "ticket"]
    else:
        form.channel.choices = [c for c in form.channel.choices if c.value != "ticket"]
    return form


def new_ticket_form(staff, formdata=None):
    form = NewTicketForm(formdata=formdata)
    form.assignee_id.choices = staff_choices(staff, "Nobody yet")
    return form


def reschedule_form(entry, formdata=None):
    """The row's reschedule form on the follow-ups list (a prefix per entry: unique ids)."""
    form = RescheduleForm(formdata=formdata, prefix=f"follow-up-{entry.id}")
    if formdata is None:
        form.follow_up_due.data = entry.follow_up_due
    return form


def ticket_form(ticket, staff, formdata=None):
    form = TicketForm(formdata=formdata, obj=ticket if formdata is None else None)
    form.assignee_id.choices = staff_choices(staff, "Nobody yet")
    keep_choice(form.assignee_id, ticket.assignee, lambda u: f"{u.name} (inactive)")
    if formdata is None:
        form.assignee_id.data = ticket.assignee_id
        form.version.data = ticket.version
    return form
