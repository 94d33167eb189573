from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from crm.communications.models import CHANNELS, DIRECTIONS, VISIBILITIES
from crm.customers.forms import choices


def farm_zone():
    return ZoneInfo(current_app.config["FARM_TIMEZONE"])


class QuickLogForm(FlaskForm):
    """Log a call (or any interaction) in a few keystrokes."""

    channel = SelectField("Channel", choices=choices(CHANNELS))
    direction = SelectField("Direction", choices=choices(DIRECTIONS))
    contact_id = SelectField("With", validate_choice=False)
    occurred_at = DateTimeLocalField("When", validators=[InputRequired("Say when it happened.")])
    duration_minutes = IntegerField(
        "Minutes", validators=[Optional(), NumberRange(0, 600, "Between 0 and 600 minutes.")]
    )
    subject = StringField("Subject", validators=[Optional(), Length(max=200)])
    body = TextAreaField("What was said", validators=[Length(max=20000)])  # no Optional: a note needs it
    outcome = StringField("Outcome", validators=[Optional(), Length(max=200)],
                          description="E.g. left voicemail, order confirmed, call back Friday.")
    visibility = SelectField("Visibility", choices=choices(VISIBILITIES))

    def validate_body(self, field):
        if self.channel.data == "note" and not (field.data or "").strip():
            raise ValidationError("A note needs some text.")

    def validate_contact_id(self, field):
        allowed = {c.value for c in field.choices}
        if (field.data or "") not in allowed:
            raise ValidationError("That contact is not linked to this customer.")

    def data_for_service(self) -> dict:
        local = self.occurred_at.data.replace(tzinfo=farm_zone())
        return {
            "channel": self.channel.data,
            "direction": self.direction.data,
            "contact_id": int(self.contact_id.data) if self.contact_id.data else None,
            "occurred_at": local.astimezone(ZoneInfo("UTC")),
            "duration_minutes": self.duration_minutes.data,
            "subject": (self.subject.data or "").strip() or None,
            "body": (self.body.data or "").strip() or None,
            "outcome": (self.outcome.data or "").strip() or None,
            "visibility": self.visibility.data,
        }

    def set_defaults(self, customer, channel: str | None):
        """Now (farm time), the primary contact, the user's last channel."""
        self.occurred_at.data = datetime.now(farm_zone()).replace(second=0, microsecond=0,
                                                                  tzinfo=None)
        primary = next((l.contact_id for l in customer.contact_links if l.role == "primary"), None)
        self.contact_id.data = str(primary) if primary else ""
        if channel in CHANNELS:
            self.channel.data = channel
