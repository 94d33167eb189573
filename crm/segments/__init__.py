"""Tags, saved segments (rule trees compiled to one SQL query at read time) and computed
categories (value tier, cadence, churn risk, engagement, RFM), refreshed nightly."""
from flask import Blueprint

from crm.features import KEEP_SURVIVOR, Feature, ListFilter, NavItem

bp = Blueprint("segments", __name__)

feature = Feature(
    name="segments",
    blueprints=(bp,),
    models=("crm.segments.models",),
    views=("crm.segments.views", "crm.segments.tag_views", "crm.segments.category_views"),
    # Segments (the rule builder); the Tags page (counts for everyone who tags customers,
    # changes for managers) is opened from the segments' page
    nav=(NavItem("Segments", "segments.index", "segments.use", order=15),),
    # the customer's tags (shown to every role, changed by tags.edit, in place) and its
    # computed categories (staff only: never on the portal)
    overview_sections=(("segments/_tag_card.html", "crm.segments.tag_views:tag_card"),
                       ("segments/_categories_card.html",
                        "crm.segments.category_views:categories_card")),
    # the customer list: "has tag X", with its export; and bulk tagging of what it lists
    list_filters=(ListFilter("segment", "Segment", "segments.use",
                             "crm.segments.services:segment_filter",
                             "crm.segments.services:segment_choices", everything="Everyone",
                             order=5),
                  ListFilter("tag", "Tag", "customers.view", "crm.segments.tags:has_tag_filter",
                             "crm.segments.tags:tag_choices", everything="Any tag", order=10)),
    list_actions=(("segments/_tag_bulk.html", "crm.segments.tag_views:bulk_bar"),),
    jobs={"bulk_tag": "crm.segments.tags:bulk_tag_job",
          "segments_refresh": "crm.segments.jobs:refresh_job"},  # nightly
    periodic={"segments_refresh": ("segments_refresh", "30 2 * * *")},  # after credit's
    cli=("crm.segments.cli:segments_cli",),
    demo="crm.segments.demo:seed",  # tags, two saved segments, the categories computed
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
