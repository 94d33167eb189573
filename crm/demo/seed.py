"""`flask demo seed`: the demo farm, made by the features' own demo steps through the real
services (each declares `Feature(demo="crm.<feature>.demo:seed")`; see crm.demo.farm)."""
from crm.auth.demo import STAFF
from crm.auth.services import find_by_email
from crm.demo.farm import DemoFarm
from crm.extensions import db
from crm.features import registry


def seed(weeks: int = 52) -> int | None:
    """Create the demo farm once; None when it is already there. Each feature's step runs in
    the order of crm.FEATURES on one DemoFarm; commits once. Returns the customers made.
    `weeks`: how far back orders, invoices and payments go (credit's step; through the
    services, about 10 ms an order: a year is some 2,000 orders)."""
    if find_by_email(STAFF[0][0]):
        return None
    farm = DemoFarm(weeks=weeks)
    for _feature, step in registry().demo_steps:
        step(farm)
    db.session.commit()
    return len(farm.customers)
