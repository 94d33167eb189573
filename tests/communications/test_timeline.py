import re
from datetime import timedelta

import pytest
from sqlalchemy import Text, func, select, type_coerce

from crm.audit.models import AuditEvent
from crm.common import utcnow
from crm.communications.models import Interaction
from crm.communications.services import PAGE_SIZE
from crm.extensions import db
from crm.forms import new_form_key
from tests import factories
from tests.customers.test_list import count_queries


def contact_of(app, customer_id):
    from crm.customers.models import Customer

    with app.app_context():
        return db.session.get(Customer, customer_id).contact_links[0].contact_id


def entry(**changes):
    return {"channel": "call", "direction": "outbound", "contact_id": "",
            "occurred_at": "2026-11-20T09:30", "duration_minutes": "6",
            "subject": "Tuesday order", "body": "Chef wants 4 oz sunflower and pea shoots.",
            "outcome": "Order confirmed", "visibility": "internal", **changes}


def log_on_tab(auth, customer_id, data, page=None, **kwargs):
    """Send the quick log on a customer's tab, taken from the form its fold fetches."""
    tab = f"/customers/{customer_id}/communications"
    return auth.post(tab, data, page=page or f"{tab}/log", **kwargs)


def interactions(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Interaction))


def add_entries(app, customer_id, n, channel="call", staff_id=None):
    with app.app_context():
        now = utcnow()
        for i in range(n):
            db.session.add(Interaction(
                customer_id=customer_id, channel=channel, direction="outbound",
                body=f"Entry {i}", occurred_at=now - timedelta(hours=i + 1),
                logged_by_kind="staff" if staff_id else "system", logged_by_id=staff_id))
        db.session.commit()


def test_quick_log_drops_the_call_into_the_timeline(app, client, auth, customer_id):
    auth.sign_in("sales")
    url = f"/customers/{customer_id}/communications"
    page = client.get(url + "/log")  # the tab with the quick log unfolded
    contact = contact_of(app, customer_id)
    assert page.status_code == 200 and "Log an interaction" in page.text
    assert f'<option selected value="{contact}">' in page.text  # the primary contact by default
    response = log_on_tab(auth, customer_id, entry(contact_id=str(contact)), htmx=True)
    assert response.status_code == 200 and "<html" not in response.text
    assert "Chef wants 4 oz sunflower and pea shoots." in response.text
    assert re.search(r"with <a href=\"/contacts/\d+\">Rosa", response.text) and "Order confirmed" in response.text
    assert "Nov 20, 2026 9:30 AM" in response.text  # shown in the farm's time zone
    assert '"toast": {"message": "Logged."' in response.headers["HX-Trigger"]
    with app.app_context():
        stored = db.session.scalar(select(Interaction))
        assert stored.occurred_at.hour == 15  # 9:30 in Chicago is 15:30 UTC
        raw = db.session.scalar(select(type_coerce(Interaction.body, Text)))
        assert "sunflower" not in raw  # encrypted at rest
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "interaction")).one()
        assert "body" in event.fields and "sunflower" not in str(event.fields)
    again = client.get(url + "/log")  # the user's last channel is the default next time
    assert '<option selected value="call">' in again.text


@pytest.mark.parametrize("changes, message", [
    ({"occurred_at": (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")},
     "It cannot have happened in the future."),
    ({"occurred_at": "yesterday"}, "Not a valid datetime value."),
    ({"occurred_at": "9999-12-31T23:00"}, "Check the year."),
    ({"occurred_at": "0001-01-01T00:00"}, "Check the year."),
    ({"channel": "note", "body": "   "}, "A note needs some text."),
    ({"contact_id": "999999"}, "That contact is not linked to this customer."),
    ({"channel": "pigeon"}, "Choose a channel from the list"),
    ({"channel": "ticket"}, "to open a ticket, use “Open a ticket”"),  # never by the channel
    ({"subject": "s" * 201}, "200 characters at most (this has 201)."),
    ({"duration_minutes": "-5"}, "Between 0 and 600 minutes."),
])
def test_bad_input_is_explained_and_nothing_is_saved(app, client, auth, customer_id,
                                                     changes, message):
    auth.sign_in("sales")
    response = log_on_tab(auth, customer_id, entry(**changes), htmx=True)
    assert response.status_code == 422
    assert message in response.text
    assert "Tuesday order" in response.text or changes.get("subject")  # input kept
    assert interactions(app) == 0


def test_contact_of_another_customer_is_refused(app, client, auth, customer_id):
    auth.sign_in("sales")
    with app.app_context():
        other = factories.customer("Other Place").contact_links[0].contact_id
    response = log_on_tab(auth, customer_id, entry(contact_id=str(other)), htmx=True)
    assert response.status_code == 422
    assert "That contact is not linked to this customer." in response.text
    assert interactions(app) == 0


def test_markup_in_a_body_is_shown_as_text(app, client, auth, customer_id):
    auth.sign_in("sales")
    response = log_on_tab(auth, customer_id, entry(body="<b>bold</b><script>alert(1)</script>"),
                          htmx=True)
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;b&gt;bold&lt;/b&gt;&lt;script&gt;" in response.text


def test_viewers_read_sales_log_delivery_sees_nothing(app, client, auth, customer_id):
    add_entries(app, customer_id, 1)
    auth.sign_in("viewer")
    page = client.get(f"/customers/{customer_id}/communications")
    assert page.status_code == 200 and "Entry 0" in page.text
    assert "Log a call, email or note" not in page.text
    assert client.get(f"/customers/{customer_id}/communications/log").status_code == 403
    assert log_on_tab(auth, customer_id, entry(),
                      page=f"/customers/{customer_id}").status_code == 403
    delivery = app.test_client()
    from tests.conftest import Auth

    Auth(app, delivery).sign_in("delivery")
    assert delivery.get(f"/customers/{customer_id}/communications").status_code == 403
    assert "Communications" not in delivery.get(f"/customers/{customer_id}").text


def test_archived_customer_takes_no_new_entries(app, client, auth, customer_id):
    auth.sign_in("manager")
    auth.post(f"/customers/{customer_id}/archive", page=f"/customers/{customer_id}")
    response = log_on_tab(auth, customer_id, entry(form_key=new_form_key()), htmx=True,
                          page=f"/customers/{customer_id}")  # no form to take a key from
    assert response.status_code == 422 and "is archived" in response.text
    assert interactions(app) == 0
    tab = f"/customers/{customer_id}/communications"
    assert "restore it to log interactions" in client.get(tab).text
    opened = client.get(f"{tab}/log")  # an old link to the unfolded form: the tab instead
    assert opened.status_code == 302 and opened.headers["Location"] == tab


def test_timeline_pages_newest_first_and_filters(app, client, auth, customer_id):
    staff = auth.sign_in("manager")
    add_entries(app, customer_id, PAGE_SIZE + 3, staff_id=staff)
    add_entries(app, customer_id, 2, channel="visit")
    page = client.get(f"/customers/{customer_id}/communications")
    assert page.text.count('class="entry ') == PAGE_SIZE
    assert page.text.index("Entry 0") < page.text.index("Entry 1")
    more = page.text.split('class="load-more"><a href="')[1].split('"')[0].replace("&amp;", "&")
    older = client.get(more, headers={"HX-Request": "true"})
    assert older.text.count('class="entry ') == 5 and "load-more" not in older.text
    visits = client.get(f"/timeline?customer={customer_id}&channel=visit",
                        headers={"HX-Request": "true"})
    assert visits.text.count('class="entry ') == 2
    mine = client.get(f"/timeline?customer={customer_id}&staff={staff}")
    assert mine.text.count('class="entry ') == PAGE_SIZE and "load-more" in mine.text
    future = client.get(f"/timeline?customer={customer_id}&from=2099-01-01")
    assert "Nothing logged with these filters yet." in future.text
    huge = client.get(f"/timeline?customer={customer_id}&to=9999-12-31")
    assert huge.status_code == 200 and huge.text.count('class="entry ') == PAGE_SIZE  # ignored
    junk = client.get(f"/timeline?customer={customer_id}&from=soon&channel=fax")
    assert junk.status_code == 200 and junk.text.count('class="entry ') == PAGE_SIZE  # ignored
    # An id or a cursor that is not one is a 404, as in a path (tests/test_ids.py).
    assert client.get(f"/timeline?customer={customer_id}&staff=x").status_code == 404
    assert client.get(f"/timeline?customer={customer_id}&before=zz").status_code == 404


def test_timeline_query_count_does_not_grow(app, client, auth, customer_id):
    auth.sign_in("sales")
    url = f"/customers/{customer_id}/communications"
    add_entries(app, customer_id, 10)
    with count_queries(app) as small:
        client.get(url)
    add_entries(app, customer_id, 300)
    with count_queries(app) as large:
        client.get(url)
    assert len(small) == len(large)


def test_the_activity_page_does_not_skip_a_heading_level(app, client, auth):
    import re

    auth.sign_in("manager")
    levels = [int(n) for n in re.findall(r"<h([1-6])\b", client.get("/activity").text)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels
