"""Length limits (issue 14, trap 5): a pasted 5,000-character name was cut to 120 by the
browser's `maxlength` and saved without a word. Now the server refuses it with the length it
has, the form keeps all of what was pasted, and the page counts as you type (app.js)."""
import re

import pytest
from sqlalchemy import func, select
from wtforms import Form
from wtforms.fields.core import UnboundField
from wtforms.validators import Length

from crm.catalogue.models import Product
from crm.customers.models import Customer
from crm.extensions import db
from crm.forms import MaxLength
from tests import factories
from tests.customers.test_create import VALID


def crm_form_classes():
    found, todo = set(), [Form]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("crm."):
                found.add(sub)
    return found


def test_every_length_limit_on_a_form_says_how_long_the_text_is(app):
    """A plain wtforms Length would answer "Field cannot be longer than 120 characters." and
    let the macro's rule (no maxlength) rest on each form remembering it."""
    plain = []
    for form in crm_form_classes():
        for name in dir(form):
            field = getattr(form, name, None)
            if isinstance(field, UnboundField):
                validators = field.kwargs.get("validators") or ()
                plain += [f"{form.__name__}.{name}" for v in validators
                          if isinstance(v, Length) and not isinstance(v, MaxLength)]
    assert plain == []


def test_the_limit_is_no_maxlength_but_a_counter(app, client, auth):
    auth.sign_in("sales")
    with app.app_context():
        customer_id = factories.customer("Fern Cafe").id
    pages = ["/customers/new", f"/customers/{customer_id}/edit",
             f"/customers/{customer_id}/communications", f"/customers/{customer_id}/contacts",
             f"/customers/{customer_id}/preferences"]
    for url in pages:
        html = client.get(url).text
        assert "maxlength=" not in html.replace("data-maxlength=", ""), url
    form = client.get("/customers/new").text
    assert re.search(r'<input[^>]* data-maxlength="120"[^>]* name="name"', form)
    assert re.search(r'<textarea[^>]* data-maxlength="4000"[^>]* name="notes"', form)
    assert re.search(r'<input[^>]* data-maxlength="200"[^>]* name="subject"',
                     client.get(f"/customers/{customer_id}/communications/log").text)


@pytest.mark.parametrize("htmx", [True, False])
def test_a_pasted_5000_character_name_is_refused_with_its_length_and_kept(app, client, auth,
                                                                          htmx):
    auth.sign_in("sales")
    pasted = ("Blue Heron Bistro " * 278)[:4996] + "Ends"  # 5,000 characters
    assert len(pasted) == 5000
    response = auth.post("/customers/new", {**VALID, "name": pasted}, htmx=htmx)
    assert response.status_code == 422
    assert "120 characters at most (this has 5,000)." in response.text
    value = re.search(r'<input[^>]* name="name"[^>]* value="([^"]*)"', response.text).group(1)
    assert value == pasted.strip()  # all of it, to shorten as they see fit
    assert 'aria-invalid="true"' in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_the_product_table_sizes_are_refused_too_long_not_cut(app, client, auth):
    auth.sign_in("admin")
    with app.app_context():
        factories.catalogue()
        basil = db.session.scalar(select(Product).where(Product.name == "Basil"))
        basil_id, before = basil.id, basil.sizes
    page = client.get("/catalogue/").text
    assert f'id="sizes-{basil_id}" name="sizes"' in page and ' maxlength="200"' not in page
    sizes = ", ".join(f"{n} oz" for n in range(1, 60))  # 366 characters
    response = auth.post(f"/catalogue/products/{basil_id}/sizes", {"sizes": sizes},
                         page="/catalogue/", follow_redirects=True)
    assert f"200 characters at most (this has {len(sizes)})." in response.text
    with app.app_context():
        assert db.session.get(Product, basil_id).sizes == before
