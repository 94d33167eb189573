import pytest

from tests import factories


@pytest.fixture
def customer_id(app):
    """A customer ("Little Fern Kitchen") with a primary contact, Rosa."""
    with app.app_context():
        return factories.customer("Little Fern Kitchen").id
