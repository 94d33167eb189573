"""The home page, the health check and the navigation's badges."""
from flask import Blueprint

from crm.features import Feature

bp = Blueprint("main", __name__)

feature = Feature(
    name="main",
    blueprints=(bp,),
    views=("crm.main.views",),
    # every signed-in role: the navigation's badges
    permissions={"main.navigation": {"admin", "manager", "sales", "finance", "delivery", "viewer",
                                         "grower"}},
)
