"""Contacts (people) and addresses, possible duplicates, merging, CSV import and export."""
from flask import Blueprint

from crm.features import KEEP_SURVIVOR, CustomerFinder, Feature, Finder, NavItem, Tab
from crm.security.permissions import ROLES

bp = Blueprint("contacts", __name__)

feature = Feature(
    name="contacts",
    blueprints=(bp,),
    views=("crm.contacts.views", "crm.contacts.import_views", "crm.contacts.duplicate_views"),
    models=("crm.contacts.models",),
    permissions={
        "contacts.view": set(ROLES) - {"grower"},
        # the "Possible duplicates" page, dismissing pairs, merging customers and contacts
        "contacts.merge": {"admin", "manager"},
        "contacts.import": {"admin", "manager"},
        # customers and contacts out as CSV: personal data in bulk, so few roles
        "contacts.export": {"admin", "manager"},
    },
    nav=(NavItem("Contacts", "contacts.index", "contacts.view", order=20),),
    tabs=(Tab("contacts", "Contacts", "contacts.panel", "customers.view",
              "contacts/_people.html", order=20),),
    jobs={"contacts_import": "crm.contacts.importing.job:import_job",
          "contacts_import_check": "crm.contacts.importing.job:check_job",
          "duplicate_scan": "crm.contacts.duplicate_scan:scan_job"},
    cli=("crm.contacts.cli:contacts_cli",),
    demo="crm.contacts.demo:seed",
    merge={"customer_contact": KEEP_SURVIVOR},
    # the customer search also finds customers by their people: an email or phone number
    # typed (exact), or the start of a person's names, saying whom it found
    customer_finder=CustomerFinder(
        "contacts.view", exact="crm.contacts.search:customers_by_channel",
        tokens="customer_people", why="crm.contacts.search:why_customers"),
    search=(Finder("people", "People", "crm.contacts.search:people_hits", "contacts.view",
                   more="contacts.index", order=20),),
    overview_sections=(("contacts/_overview_people.html", "crm.contacts.pages:who_to_call"),),
)
