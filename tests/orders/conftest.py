"""What the Orders tests share: the catalogue with a few standard prices and a customer."""
from dataclasses import dataclass

import pytest

from crm.common import SYSTEM
from crm.extensions import db
from crm.orders import services as orders
from tests import factories

PEA, SUNFLOWER = "Pea shoots", "Sunflower"


@dataclass
class Shop:
    customer_id: int
    products: dict  # name -> id
    packaging: dict  # name -> id

    def line(self, name=PEA, size="4 oz", quantity=10):
        return orders.Line(self.products[name], size, quantity, self.packaging["4 oz clamshell"])


@pytest.fixture
def shop(app):
    """Pea shoots 4 oz $6.00 and sunflower 4 oz $5.00 to the standard tier; Fern Cafe."""
    with app.app_context():
        products, packaging = factories.catalogue()
        orders.set_prices({(products[PEA].id, "4 oz", "standard"): 600,
                           (products[SUNFLOWER].id, "4 oz", "standard"): 500}, actor=SYSTEM)
        customer = factories.customer("Fern Cafe")
        db.session.commit()
        return Shop(customer.id, {k: v.id for k, v in products.items()},
                    {k: v.id for k, v in packaging.items()})
