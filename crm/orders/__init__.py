"""Prices (per product size and pricing tier) and orders (draft → confirmed → delivered →
invoiced, or cancelled). Confirming asks crm.credit whether the customer may order."""
from flask import Blueprint

from crm.features import Feature, Tab

bp = Blueprint("orders", __name__)

feature = Feature(
    name="orders",
    blueprints=(bp,),
    views=("crm.orders.views",),
    models=("crm.orders.models",),
    demo="crm.orders.demo:seed",  # prices, and a year of orders, invoices and payments
    owed_soon="crm.orders.services:open_orders_total",
    jobs={"orders_for_date": "crm.orders.jobs:orders_for_date_job",
          "orders_cutoff": "crm.orders.jobs:orders_cutoff_job"},
    periodic={"orders_cutoff": ("orders_cutoff", "0 {ORDER_CUTOFF_HOUR} * * *")},  # farm time
    cli=("crm.orders.cli:orders_cli",),
    permissions={
        "prices.manage": {"admin", "manager"},
        "orders.view": {"admin", "manager", "sales", "finance"},
        "orders.edit": {"admin", "manager", "sales", "finance"},
        # the day's orders for every customer delivering (a job), from the standing items
        "orders.bulk": {"admin", "manager"},
    },
    # the price list is opened from the catalogue's page, "Orders for a day" from the
    # delivery sheets' page and the price list's
    tabs=(Tab("orders", "Orders", "orders.panel", "orders.view", "orders/_panel.html",
              order=35),),
)
