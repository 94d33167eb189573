"""Form helpers every feature's forms use: choices, trimming, normalising, the version field."""
from wtforms import HiddenField, SelectChoice
from wtforms.validators import ValidationError


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


class Trimmed:
    """Form Meta: every string field is trimmed before validation."""

    def bind_field(self, form, unbound_field, options):
        options["filters"] = [strip, *unbound_field.kwargs.get("filters", ())]
        return unbound_field.bind(form=form, **options)
