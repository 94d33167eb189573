"""The tags card on a customer's Overview: chips, add (an existing tag whatever its case and
spacing, or a new one) and remove in place with htmx, the same without JavaScript, names
refused with the typed text kept, suggestions as one types, and who may change tags."""
import pytest
from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.common import SYSTEM
from crm.extensions import db
from crm.segments.models import CustomerTag, Tag
from crm.segments.tags import add_tag, customer_tags, find_or_create_tag
from tests import factories


@pytest.fixture
def customer_id(app):
    with app.app_context():
        made = factories.customer("Tag Bistro")
        tag = find_or_create_tag("Farmers Market", actor=SYSTEM)
        tag.colour = "teal"
        add_tag([made.id], tag, actor=SYSTEM)
        db.session.commit()
        return made.id


def names(app, customer_id):
    with app.app_context():
        return [t.name for t in customer_tags(customer_id)]


def test_the_overview_shows_the_customers_tags_as_coloured_chips(app, client, auth,
                                                                 customer_id):
    auth.sign_in("sales")
    page = client.get(f"/customers/{customer_id}").text
    assert 'id="tag-card"' in page
    assert 'class="tag-chip tag-teal"><span>Farmers Market</span>' in page
    assert "Remove the tag Farmers Market" in page
    assert '<label for="tag-name">Add a tag</label>' in page and 'list="tag-suggestions"' in page


def test_adding_in_place_reuses_a_tag_in_any_case_and_spacing(app, client, auth, customer_id):
    auth.sign_in("sales")
    with app.app_context():
        other = factories.customer("Other Place").id
    url = f"/customers/{other}/tags"
    response = auth.post(url, {"tag-name": "  farmers   MARKET "}, page=f"/customers/{other}",
                         htmx=True)
    assert response.status_code == 200
    assert "<html" not in response.text and response.text.lstrip().startswith("<section")
    assert "<span>Farmers Market</span>" in response.text
    assert 'hx-swap-oob="innerHTML:#announce">Tag “Farmers Market” added.' in response.text
    assert "data-autofocus" in response.text  # the focus stays in the field
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Tag)) == 1
        assert db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_type == "customer", AuditEvent.entity_id == other,
            AuditEvent.action == "tag")).all() == ["tag"]
    assert names(app, other) == ["Farmers Market"]


def test_a_new_name_makes_a_new_tag_and_adding_twice_says_so(app, client, auth, customer_id):
    auth.sign_in("manager")
    page = f"/customers/{customer_id}"
    response = auth.post(f"{page}/tags", {"tag-name": "Wholesale"}, page=page, htmx=True)
    assert "<span>Wholesale</span>" in response.text
    again = auth.post(f"{page}/tags", {"tag-name": "wholesale"}, page=page, htmx=True)
    assert "has the tag “Wholesale” already" in again.text
    assert names(app, customer_id) == ["Farmers Market", "Wholesale"]


@pytest.mark.parametrize("typed, message", [
    ("     ", "Type a tag name."),
    ("x" * 200, "A tag name is at most 60 characters (this one has 200)."),
])
def test_a_refused_name_answers_422_next_to_the_field_keeping_what_was_typed(
        app, client, auth, customer_id, typed, message):
    auth.sign_in("sales")
    page = f"/customers/{customer_id}"
    response = auth.post(f"{page}/tags", {"tag-name": typed}, page=page, htmx=True)
    assert response.status_code == 422
    assert f'<ul class="errors" id="tag-name-error"><li>{message}</li></ul>' in response.text
    assert 'aria-invalid="true"' in response.text
    if typed.strip():
        assert f'value="{typed}"' in response.text
    assert names(app, customer_id) == ["Farmers Market"]
    # without JavaScript: a page of its own with the same message, the text kept
    plain = auth.post(f"{page}/tags", {"tag-name": typed}, page=page)
    assert plain.status_code == 422 and "<html" in plain.text and message in plain.text


def test_removing_in_place_and_without_javascript(app, client, auth, customer_id):
    auth.sign_in("sales")
    with app.app_context():
        tag_id = db.session.scalar(select(Tag.id))
    page = f"/customers/{customer_id}"
    response = auth.post(f"{page}/tags/{tag_id}/remove", page=page, htmx=True)
    assert response.status_code == 200 and "No tags yet." in response.text
    assert "Tag “Farmers Market” removed." in response.text
    assert names(app, customer_id) == []
    added = auth.post(f"{page}/tags", {"tag-name": "Farmers market"}, page=page)
    assert added.status_code == 303 and added.headers["Location"] == page
    assert "Tag “Farmers Market” added." in client.get(page).text  # the one tag, as named
    assert names(app, customer_id) == ["Farmers Market"]
    removed = auth.post(f"{page}/tags/{tag_id}/remove", page=page)
    assert removed.status_code == 303 and names(app, customer_id) == []


def test_suggestions_as_one_types_leave_out_the_customers_own_tags(app, client, auth,
                                                                  customer_id):
    auth.sign_in("sales")
    with app.app_context():
        for name in ("Farm stand", "Market stall", "Wholesale"):
            find_or_create_tag(name, actor=SYSTEM)
        db.session.commit()
    found = client.get(f"/tags/suggest?customer={customer_id}&tag-name=MAR",
                       headers={"HX-Request": "true"}).text
    assert found.startswith('<datalist id="tag-suggestions">')
    assert '<option value="Market stall">' in found  # starts with it
    assert "Farmers Market" not in found  # the customer has it already
    assert "Wholesale" not in found and "Farm stand" not in found
    everything = client.get("/tags/suggest?tag-name=").text
    assert everything.count("<option") == 4


@pytest.mark.parametrize("role", ["viewer", "delivery"])
def test_viewer_and_delivery_see_tags_but_cannot_change_them(app, client, auth, customer_id,
                                                            role):
    auth.sign_in(role)
    page = client.get(f"/customers/{customer_id}").text
    assert "<span>Farmers Market</span>" in page
    assert "Remove the tag" not in page and "Add a tag" not in page
    token = auth.token(f"/customers/{customer_id}")
    refused = client.post(f"/customers/{customer_id}/tags", data={"tag-name": "Sneaky"},
                          headers={"X-CSRFToken": token})
    assert refused.status_code == 403
    assert names(app, customer_id) == ["Farmers Market"]


def test_an_archived_customers_tags_are_shown_not_changed(app, client, auth, customer_id):
    auth.sign_in("sales")
    with app.app_context():
        from crm.customers.models import Customer
        from crm.customers.services import set_archived

        set_archived(db.session.get(Customer, customer_id), True, actor=SYSTEM)
        db.session.commit()
    page = client.get(f"/customers/{customer_id}").text
    assert "<span>Farmers Market</span>" in page and "Add a tag" not in page
    response = auth.post(f"/customers/{customer_id}/tags", {"tag-name": "New"},
                         page=f"/customers/{customer_id}")
    assert response.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(CustomerTag)) == 1
