"""Prices (per product size and pricing tier) and orders (draft → confirmed → delivered →
invoiced, or cancelled). Confirming asks crm.credit whether the customer may order."""
from flask import Blueprint

from crm.features import Feature, NavItem, Tab

bp = Blueprint("orders", __name__)

feature = Feature(
    name="orders",
    blueprints=(bp,),
    views=("crm.orders.views",),
    models=("crm.orders.models",),
    owed_soon="crm.orders.services:open_orders_total",
    permissions={
        "prices.manage": {"admin", "manager"},
        "orders.view": {"admin", "manager", "sales", "finance"},
        "orders.edit": {"admin", "manager", "sales", "finance"},
    },
    nav=(NavItem("Prices", "orders.prices", "prices.manage", order=75),),
    tabs=(Tab("orders", "Orders", "orders.panel", "orders.view", "orders/_panel.html",
              order=35),),
)
