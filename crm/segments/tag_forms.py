"""The tag editor's forms: a tag's name typed on a customer's page, and a tag's own edit form
(the Tags page). Names are checked by crm.segments.tags (clean_name), not here, so every path
says the same."""
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField

from crm.forms import IdField, MaxLength, Trimmed, choices, version_field
from crm.segments.models import TAG_COLOURS
from crm.segments.tags import DESCRIPTION_MAX


class Form(FlaskForm):
    class Meta(Trimmed):
        pass


class TagNameForm(Form):
    """Add a tag to a customer: an existing one (suggested as one types) or a new one."""

    name = StringField("Add a tag", description="Pick a suggestion or type a new tag.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="tag", **kwargs)


class TagForm(Form):
    name = StringField("Name")
    colour = RadioField("Colour", choices=choices({"": "Plain", **TAG_COLOURS}), default="",
                        validate_choice=False)  # checked by the service (clean_colour)
    description = TextAreaField("Description", validators=[MaxLength(DESCRIPTION_MAX)],
                                description="What the tag means, for whoever uses it next.")
    version = version_field()

    def __init__(self, *args, tag_id: int, **kwargs):
        super().__init__(*args, prefix=f"tag-{tag_id}", **kwargs)


class MergeForm(Form):
    into = IdField("Merge into", validate_choice=False)

    def __init__(self, *args, tag_id: int, **kwargs):
        super().__init__(*args, prefix=f"merge-{tag_id}", **kwargs)
