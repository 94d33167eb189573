from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional, ValidationError

from crm.auth.models import StaffUser
from crm.customers.models import KINDS, PRICING_TIERS, STATUSES
from crm.extensions import db
from crm.forms import IdField, MaxLength, Trimmed, choices, version_field
from crm.security.permissions import can

COUNTRIES = {"US": "United States", "CA": "Canada", "GB": "United Kingdom"}


def owner_choices(current_owner=None):
    """Active staff, plus the current owner even if disabled (so an edit never drops them)."""
    users = db.session.scalars(
        select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.id)
    ).all()
    options = {"": "— nobody —", **{str(u.id): u.name for u in users}}
    if current_owner is not None and not current_owner.active:
        options[str(current_owner.id)] = f"{current_owner.name} (disabled)"
    return choices(options)


class CustomerForm(FlaskForm):
    class Meta(Trimmed):
        pass

    name = StringField("Name", validators=[DataRequired("Give the customer a name."), MaxLength(120)])
    kind = SelectField("Kind", choices=choices(KINDS))
    status = SelectField("Status", choices=choices(STATUSES))
    pricing_tier = SelectField("Pricing tier", choices=choices(PRICING_TIERS))
    owner_id = IdField("Account owner")
    parent_number = StringField(
        "Parent account",
        validators=[Optional(), MaxLength(20)],
        description="For a location of a restaurant group: the group's number, e.g. CUST-00012.",
    )
    notes = TextAreaField("Notes", validators=[Optional(), MaxLength(4000)])
    version = version_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not can(current_user, "customers.pricing"):
            del self.pricing_tier  # neither shown nor posted: the tier is left as it is

    def data_for_service(self) -> dict:
        """What create_customer / update_customer take (no pricing tier from a form that
        does not show it: an edit keeps the customer's, a new customer gets the default)."""
        parent = getattr(self, "parent", None)
        data = {
            "name": self.name.data,
            "kind": self.kind.data,
            "status": self.status.data,
            "owner_id": self.owner_id.data,
            "parent_id": parent.id if parent else None,
            "notes": self.notes.data or None,
        }
        if "pricing_tier" in self:
            data["pricing_tier"] = self.pricing_tier.data
        return data

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
