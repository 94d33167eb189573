"""Tags, saved segments (rule trees compiled to one SQL query at read time) and computed
categories (value tier, cadence, churn risk, engagement, RFM), refreshed nightly."""
from flask import Blueprint

from crm.features import KEEP_SURVIVOR, Feature

bp = Blueprint("segments", __name__)

feature = Feature(
    name="segments",
    blueprints=(bp,),
    models=("crm.segments.models",),
    views=("crm.segments.category_views",),
    jobs={"segments_refresh": "crm.segments.jobs:refresh_job"},  # nightly
    cli=("crm.segments.cli:segments_cli",),
    # the Overview's "Categories" card (staff only: never on the portal)
    overview_sections=(("segments/_categories_card.html",
                        "crm.segments.category_views:categories_card"),),
    # value tier and churn risk for the follow-ups' and tickets' service priority
    customer_rank="crm.segments.categories:rank_select",
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
