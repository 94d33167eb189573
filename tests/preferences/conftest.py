"""What the Preferences tests share."""
import pytest

from crm.extensions import db
from tests import factories


@pytest.fixture
def setup(app):
    """(customer id, contact id, {product name: id}, {packaging name: id}, route id)."""
    with app.app_context():
        products, packaging = factories.catalogue()
        customer = factories.customer("Fern Cafe")
        from crm.catalogue.models import Route

        route = Route(name="North")
        db.session.add(route)
        db.session.commit()
        return (customer.id, customer.contact_links[0].contact_id,
                {k: v.id for k, v in products.items()}, {k: v.id for k, v in packaging.items()},
                route.id)
