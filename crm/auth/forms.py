from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired

from crm.forms import MaxLength


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), MaxLength(254)])
    password = PasswordField("Password", validators=[DataRequired(), MaxLength(200)])
    next = HiddenField()
