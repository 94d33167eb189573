"""The Preferences tab: delivery plan, standing items, likes, pauses, channels and consent."""
from flask import Blueprint

from crm.features import KEEP_SURVIVOR, Feature, Tab
from crm.security.permissions import ROLES

bp = Blueprint("preferences", __name__)

feature = Feature(
    name="preferences",
    blueprints=(bp,),
    views=("crm.preferences.views",),
    models=("crm.preferences.models",),
    demo="crm.preferences.demo:seed",
    permissions={
        "preferences.view": set(ROLES) - {"grower"},
        "preferences.edit": {"admin", "manager", "sales"},
    },
    tabs=(Tab("preferences", "Preferences", "preferences.panel", "preferences.view",
              "preferences/_panel.html", order=30),),
    # one plan per customer, one like per product, one channel record per contact
    merge={"delivery_plan": KEEP_SURVIVOR, "product_preference": KEEP_SURVIVOR,
           "contact_preference": KEEP_SURVIVOR},
)
