"""Which customers get a delivery on a date; sheets as HTML and PDF."""
from flask import Blueprint

from crm.features import Feature, NavItem

bp = Blueprint("delivery", __name__, url_prefix="/delivery")

feature = Feature(
    name="delivery",
    blueprints=(bp,),
    views=("crm.delivery.views",),
    permissions={"delivery.view": {"admin", "manager", "sales", "delivery", "viewer",
                                     "grower"}},
    nav=(NavItem("Delivery sheets", "delivery.sheets", "delivery.view", order=60),),
    overview_sections=(("delivery/_overview.html", "crm.delivery.overview:next_delivery"),),
)
