"""What the credit tests share: a farm with a price list and a customer to sell to."""
from dataclasses import dataclass

import pytest

from crm.common import SYSTEM, Actor
from crm.extensions import db
from crm.orders import services as orders
from tests import factories

PEA, SUNFLOWER = "Pea shoots", "Sunflower"


@dataclass
class Farm:
    products: dict  # name -> id
    packaging: dict

    def line(self, name=PEA, size="4 oz", quantity=10):
        return orders.Line(self.products[name], size, quantity, self.packaging["4 oz clamshell"])


@pytest.fixture
def farm(app_ctx):
    """The catalogue with standard prices: pea shoots 4 oz $6.00, sunflower 4 oz $5.00."""
    products, packaging = factories.catalogue()
    orders.set_prices({(products[PEA].id, "4 oz", "standard"): 600,
                       (products[SUNFLOWER].id, "4 oz", "standard"): 500}, actor=SYSTEM)
    db.session.commit()
    return Farm({k: v.id for k, v in products.items()}, {k: v.id for k, v in packaging.items()})


@pytest.fixture
def staff():
    return Actor.staff(1)
