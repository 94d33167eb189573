"""Interactions, follow-ups, tickets and .eml import; timelines and Activity."""
from flask import Blueprint

from crm.features import Feature, Finder, NavItem, Tab

bp = Blueprint("communications", __name__)

feature = Feature(
    name="communications",
    blueprints=(bp,),
    views=("crm.communications.views",),
    models=("crm.communications.models",),
    demo="crm.communications.demo:seed",
    permissions={
        "communications.view": {"admin", "manager", "sales", "finance", "viewer"},
        "communications.log": {"admin", "manager", "sales", "finance"},
        # change anyone's entries, and the Activity view across all customers
        "communications.manage": {"admin", "manager"},
        "communications.restore": {"admin"},
    },
    nav=(
        NavItem("Follow-ups", "communications.my_follow_ups", "communications.log", order=30,
                badge="crm.communications.services:overdue_badge", badge_label="overdue"),
        NavItem("Tickets", "communications.tickets", "communications.view", order=40),
        NavItem("Activity", "communications.activity", "communications.manage", order=50),
    ),
    tabs=(Tab("communications", "Communications", "communications.panel",
              "communications.view", "communications/_panel.html", order=40),),
    # the person's timeline and quick log on their page (nothing without the permission)
    overview_sections=(("communications/_overview.html",
                        "crm.communications.overview:at_a_glance"),),
    contact_sections=(("communications/_contact_panel.html",
                       "crm.communications.views:contact_panel"),),
    # the header search finds a ticket by its number (T-00004)
    search=(Finder("tickets", "Tickets", "crm.communications.search:ticket_hits",
                   "communications.view", order=30),),
)
