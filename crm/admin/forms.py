"""Admin › Staff users: adding a user, changing their role or status. The rules (password
length, roles, the last admin) are crm.auth.services'; these forms only carry the input."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Optional

from crm.auth.services import MIN_PASSWORD_LENGTH
from crm.forms import FormKeyField, MaxLength, choices, strip, version_field
from crm.security.permissions import ROLES

ROLE_LABELS = {role: role.capitalize() for role in ROLES}
STATUSES = {"active": "Active: can sign in", "disabled": "Disabled: cannot sign in"}


class NewStaffUserForm(FlaskForm):
    """Email, name and role trimmed; the password taken as typed (as `flask users create`)."""

    form_key = FormKeyField()
    email = EmailField("Email", filters=[strip], validators=[
        DataRequired("Give the person's email address: they sign in with it."), MaxLength(254)])
    name = StringField("Name", filters=[strip], validators=[Optional(), MaxLength(120)],
                       description="Shown to colleagues. Leave empty to use the part of the "
                                   "email before the @.")
    role = SelectField("Role", choices=choices(ROLE_LABELS), default="viewer")
    password = PasswordField(
        "Password", validators=[DataRequired("Give them a password."), MaxLength(200)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters. Give it to them in person "
                    "or by phone, not by email.")
    password_again = PasswordField("Repeat the password", validators=[
        EqualTo("password", "The two passwords are not the same: type it again in both.")])


class StaffUserForm(FlaskForm):
    """A user's role and status, at the version the admin loaded."""

    role = SelectField("Role", choices=choices(ROLE_LABELS))
    status = SelectField("Status", choices=choices(STATUSES),
                         description="Disabling signs them out everywhere; their history stays.")
    version = version_field()
