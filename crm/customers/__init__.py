"""Customers (the accounts): list and search, create, edit, archive, the customer page."""
from flask import Blueprint

from crm.features import Feature, Finder, NavItem, Tab
from crm.security.permissions import ROLES

bp = Blueprint("customers", __name__, url_prefix="/customers")

feature = Feature(
    name="customers",
    blueprints=(bp,),
    views=("crm.customers.views",),
    models=("crm.customers.models",),
    permissions={
        "customers.view": set(ROLES) - {"grower"},  # the grower sees no customer list
        "customers.edit": {"admin", "manager", "sales"},
        "customers.archive": {"admin", "manager"},
        # the pricing tier (which prices a customer pays) is financial data: not for delivery
        # or viewer; sales sets it on the customers they sign up
        "customers.pricing": {"admin", "manager", "sales", "finance"},
    },
    nav=(NavItem("Customers", "customers.index", "customers.view", order=10),),
    tabs=(Tab("overview", "Overview", "customers.detail", "customers.view",
              "customers/_overview.html", order=10),),
    setup="crm.customers.views:setup",  # the answer to a change of an archived customer
    search=(Finder("customers", "Customers", "crm.customers.search:customer_hits",
                   "customers.view", more="customers.index", order=10),),
)
