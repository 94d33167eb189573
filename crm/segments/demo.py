"""The demo farm's tags, two saved segments and its computed categories (`flask demo seed`,
after the orders' year of history). Draws nothing from the farm's random sequence, so the
steps after it make the same farm as before."""
from crm.common import SYSTEM
from crm.extensions import db
from crm.segments import categories
from crm.segments.services import create_segment
from crm.segments.tags import add_tag, find_or_create_tag

TAGS = {  # name: (colour, description, which customers)
    "Wholesale": ("green", "Buys by the case at wholesale prices",
                  lambda c: c.kind in ("grocer", "wholesale")),
    "Farmers market": ("amber", "Our stall's regulars and the market's buyers",
                       lambda c: c.kind == "market"),
    "Chef's table": ("purple", "Kitchens that take the new varieties first",
                     lambda c: c.kind == "restaurant" and c.id % 3 == 0),
    "Paused for winter": ("slate", None, lambda c: c.status == "paused"),
}


def seed(farm):
    for name, (colour, description, chosen) in TAGS.items():
        tag = find_or_create_tag(name, actor=SYSTEM)
        tag.colour, tag.description = colour, description
        add_tag([c.id for c in farm.customers if chosen(c)], tag, actor=SYSTEM)
    db.session.flush()
    manager, sales = (next(u for u in farm.staff if u.role == role)
                      for role in ("manager", "sales"))
    paused = find_or_create_tag("Paused for winter", actor=SYSTEM)
    create_segment("Restaurants gone quiet for a month", {"match": "all", "rules": [
        {"field": "kind", "op": "in", "value": ["restaurant"]},
        {"field": "status", "op": "in", "value": ["active"]},
        {"field": "last_order", "op": "more_than", "value": 30},
        {"field": "tags", "op": "none", "value": [paused.id]}]},
        shared=True, user=manager, actor=manager.actor)
    create_segment("High churn risk or gone quiet", {"match": "any", "rules": [
        {"field": "churn_risk", "op": "in", "value": ["high"]},
        {"match": "all", "rules": [
            {"field": "last_order", "op": "more_than", "value": 45},
            {"field": "status", "op": "in", "value": ["active"]}]}]},
        shared=False, user=sales, actor=sales.actor)
    categories.refresh()
