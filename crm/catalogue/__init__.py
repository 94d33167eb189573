"""Products with sizes, packaging options and routes (managers)."""
from flask import Blueprint

from crm.features import Feature, NavItem

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")

feature = Feature(
    name="catalogue",
    blueprints=(bp,),
    views=("crm.catalogue.views",),
    models=("crm.catalogue.models",),
    permissions={"catalogue.manage": {"admin", "manager"},
                 # days to harvest, yield per tray, loss allowance: what the sowing plan uses
                 "catalogue.growing": {"admin", "manager", "grower"}},
    nav=(NavItem("Catalogue", "catalogue.index", "catalogue.manage", order=70),
         # growers' own item; whoever manages the catalogue opens it from the catalogue's page
         NavItem("Growing data", "catalogue.growing", "catalogue.growing", order=71,
                 unless="catalogue.manage")),
)
