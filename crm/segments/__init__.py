"""Tags, saved segments (rule trees compiled to one SQL query at read time) and computed
categories (value tier, cadence, churn risk, engagement, RFM), refreshed nightly."""
from flask import Blueprint

from crm.features import KEEP_SURVIVOR, Feature, NavItem

bp = Blueprint("segments", __name__)

feature = Feature(
    name="segments",
    blueprints=(bp,),
    views=("crm.segments.views",),
    nav=(NavItem("Segments", "segments.index", "segments.use", order=15),),
    models=("crm.segments.models",),
    # a customer merged away hands its tags to the survivor (one row per tag) and its
    # categories are computed again for the survivor the next night
    merge={"customer_tag": KEEP_SURVIVOR, "customer_category": KEEP_SURVIVOR},
    permissions={
        # put tags on customers and take them off (one or many)
        "tags.edit": {"admin", "manager", "sales", "finance"},
        # rename, merge, recolour and delete tags
        "tags.manage": {"admin", "manager"},
        # build and use segments (a shared one is edited by its owner or a manager)
        "segments.use": {"admin", "manager", "sales", "finance"},
        "segments.manage": {"admin", "manager"},
    },
)
