"""A contact's own timeline and quick log; the Activity view across customers for managers."""
import re
from datetime import timedelta

from sqlalchemy import select

from crm.common import utcnow
from crm.communications.models import Interaction
from crm.communications.services import PAGE_SIZE
from crm.contacts.models import CustomerContact
from crm.extensions import db
from tests import factories
from tests.communications.test_timeline import add_entries, entry, interactions, log_on_tab
from tests.customers.test_list import count_queries


def contact_linked_to_two(app):
    """Rosa buys for two locations: (contact id, first customer id, second customer id)."""
    with app.app_context():
        first = factories.customer("Blue Heron North")
        second = factories.customer("Blue Heron South", contact=False)
        contact_id = first.contact_links[0].contact_id
        db.session.add(CustomerContact(customer_id=second.id, contact_id=contact_id,
                                       role="ordering"))
        db.session.commit()
        return contact_id, first.id, second.id


def test_contact_page_shows_their_entries_across_customers_and_logs_with_them(
        app, client, auth):
    auth.sign_in("sales")
    contact_id, north, south = contact_linked_to_two(app)
    log_on_tab(auth, north, entry(contact_id=str(contact_id), subject="North order"), htmx=True)
    log_on_tab(auth, north, entry(subject="Nobody in particular"), htmx=True)
    page = client.get(f"/contacts/{contact_id}")
    assert page.status_code == 200
    assert "Blue Heron North" in page.text and "Blue Heron South" in page.text
    assert "North order" in page.text and "Nobody in particular" not in page.text
    response = auth.post(f"/contacts/{contact_id}/communications",
                         entry(customer_id=str(south), subject="South order"), htmx=True,
                         page=f"/contacts/{contact_id}")
    assert response.status_code == 200, re.findall(r'class="errors".*?</ul>', response.text, re.S) and "South order" in response.text
    assert "North order" in response.text and '<section id="contact-communications"' in response.text
    with app.app_context():
        stored = db.session.scalar(select(Interaction).where(Interaction.customer_id == south))
        assert stored.contact_id == contact_id and stored.subject == "South order"
    assert "South order" in client.get(f"/customers/{south}/communications").text


def test_contact_quick_log_refuses_a_customer_they_are_not_with(app, client, auth):
    auth.sign_in("sales")
    contact_id, north, _ = contact_linked_to_two(app)
    with app.app_context():
        stranger = factories.customer("Somewhere Else").id
    response = auth.post(f"/contacts/{contact_id}/communications",
                         entry(customer_id=str(stranger)), htmx=True, page=f"/contacts/{contact_id}")
    assert response.status_code == 422
    assert "Choose one of this contact&#39;s customers." in response.text
    assert interactions(app) == 0


def test_contact_timeline_pages_and_filters(app, client, auth):
    auth.sign_in("sales")
    contact_id, north, _ = contact_linked_to_two(app)
    with app.app_context():
        for i in range(PAGE_SIZE + 5):
            db.session.add(Interaction(
                customer_id=north, contact_id=contact_id, channel="call", direction="outbound",
                body=f"Contact call {i}", occurred_at=utcnow() - timedelta(minutes=i),
                logged_by_kind="system"))
        db.session.commit()
    page = client.get(f"/contacts/{contact_id}")
    assert page.text.count('class="entry ') == PAGE_SIZE
    more = re.search(r'class="load-more"><a href="([^"]+)"', page.text).group(1)
    assert f"contact={contact_id}" in more
    older = client.get(more.replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert older.text.count('class="entry ') == 5
    assert client.get("/timeline").status_code == 400  # a timeline needs a customer or contact


def test_delivery_sees_the_contact_but_not_the_conversation(app, client, auth):
    contact_id, north, _ = contact_linked_to_two(app)
    add_entries(app, north, 1)
    auth.sign_in("delivery")
    page = client.get(f"/contacts/{contact_id}")
    assert page.status_code == 200 and "Rosa" in page.text
    assert "Communications" not in page.text


def test_activity_is_for_managers_and_names_the_customer(app, client, auth):
    with app.app_context():
        one, two = factories.customer("Fern Cafe").id, factories.customer("Oak Grocer").id
    add_entries(app, one, 3)
    add_entries(app, two, 2, channel="visit")
    auth.sign_in("manager")
    page = client.get("/activity")
    assert page.status_code == 200
    assert page.text.count('class="entry ') == 5
    assert "Fern Cafe" in page.text and "Oak Grocer" in page.text
    visits = client.get("/activity?channel=visit", headers={"HX-Request": "true"})
    assert visits.text.count('class="entry ') == 2 and "<html" not in visits.text
    for role in ("sales", "finance", "viewer"):
        from tests.conftest import Auth

        other = app.test_client()
        Auth(app, other).sign_in(role)
        assert other.get("/activity").status_code == 403
        assert 'href="/activity"' not in other.get("/customers/").text


def test_query_counts_do_not_grow_with_the_data(app, client, auth):
    me = auth.sign_in("manager")
    contact_id, north, _ = contact_linked_to_two(app)
    pages = ["/activity", f"/contacts/{contact_id}", "/follow-ups", "/tickets",
             f"/customers/{north}/communications"]

    def grow(n):
        with app.app_context():
            from crm.communications.models import Ticket

            for i in range(n):
                ticket = Ticket(customer_id=north, subject=f"T{i}", assignee_id=me,
                                opened_by_kind="staff", opened_by_id=me)
                db.session.add(Interaction(
                    customer_id=north, contact_id=contact_id, channel="ticket",
                    direction="inbound", body=f"E{i}", occurred_at=utcnow(), logged_by_kind="staff",
                    logged_by_id=me,
                    follow_up_due=utcnow().date(), follow_up_assignee_id=me, ticket=ticket))
            db.session.commit()

    grow(2)
    small = {}
    for url in pages:
        with count_queries(app) as queries:
            assert client.get(url).status_code == 200
        small[url] = len(queries)
    grow(40)
    for url in pages:
        with count_queries(app) as queries:
            client.get(url)
        assert len(queries) == small[url], url
