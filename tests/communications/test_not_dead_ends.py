"""Issue 14 item 10: tickets and follow-ups are not dead ends. A new ticket from the tickets
page (the customer picked by name or number), follow-ups rescheduled and snoozed from the list,
the person to call with tap-to-call and email, the team's follow-ups for managers, and
Activity naming a person once."""
import re
from datetime import timedelta

from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.communications.models import Interaction, Ticket
from crm.customers.models import Customer
from crm.extensions import db
from crm.forms import new_form_key
from tests import factories
from tests.communications.test_follow_ups import log_with_follow_up, today
from tests.communications.test_timeline import entry, log_on_tab
from tests.conftest import Auth


def tickets_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Ticket))


def number_of(app, customer_id):
    with app.app_context():
        return db.session.get(Customer, customer_id).number


# -- a new ticket from the tickets page ------------------------------------------------------

def test_the_tickets_page_has_new_ticket_and_a_customer_picked_by_number(app, client, auth,
                                                                        customer_id):
    auth.sign_in("sales")
    page = client.get("/tickets")
    assert '<a class="button primary" href="/tickets/new">New ticket</a>' in page.text
    form = client.get("/tickets/new")
    assert form.status_code == 200 and 'name="customer"' in form.text
    assert 'hx-post="/tickets/new/customers"' in form.text  # active search, with JS
    number = number_of(app, customer_id)
    response = auth.post("/tickets/new", {"customer": number.lower(), "subject": "Wilted pea shoots",
                                          "direction": "inbound", "body": "Arrived wilted.",
                                          "assignee_id": ""})
    assert response.status_code == 303
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        assert ticket.customer_id == customer_id and ticket.subject == "Wilted pea shoots"
        first = db.session.scalar(select(Interaction).where(Interaction.ticket_id == ticket.id))
        assert first.channel == "ticket" and first.body == "Arrived wilted."
        assert db.session.scalars(select(AuditEvent.entity_type).where(
            AuditEvent.action == "create", AuditEvent.entity_type.in_(("ticket", "interaction")))
            .order_by(AuditEvent.id)).all() == ["ticket", "interaction"]
    assert response.headers["Location"] == f"/tickets/{ticket.id}"
    assert "Wilted pea shoots" in client.get(response.headers["Location"]).text


def test_a_name_picks_the_customer_and_several_matches_are_offered_to_choose(app, client, auth):
    auth.sign_in("manager")
    with app.app_context():
        fern = factories.customer("Fern Cafe").id
        factories.customer("Fern Deli")
        factories.customer("Oak Bistro")
    data = {"subject": "Late delivery", "direction": "inbound", "body": "", "assignee_id": ""}
    unique = auth.post("/tickets/new", {**data, "customer": "oak"}, page="/tickets/new")
    assert unique.status_code == 303
    several = auth.post("/tickets/new", {**data, "customer": "fern"}, page="/tickets/new")
    assert several.status_code == 422
    assert "Several customers match “fern”: choose one below." in several.text
    assert several.text.count('name="customer_id"') == 2 and 'value="fern"' in several.text
    picked = auth.post("/tickets/new", {**data, "customer": "fern", "customer_id": str(fern)},
                       page="/tickets/new")
    assert picked.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Ticket.customer_id).order_by(Ticket.id.desc())) == fern
    # the active search answers with the same choices, a fragment
    # (POST: a typed name stays out of the URL)
    matches = auth.post("/tickets/new/customers", {"customer": "fern"}, page="/tickets/new",
                        htmx=True)
    assert "<html" not in matches.text and matches.text.count('type="radio"') == 2
    assert "2 customers match." in matches.text


def test_a_bad_customer_is_422_and_keeps_what_was_typed(app, client, auth, customer_id):
    auth.sign_in("sales")
    data = {"customer": "Nobody Such", "subject": "Crates missing", "direction": "inbound",
            "body": "Three crates short.", "assignee_id": ""}
    response = auth.post("/tickets/new", data, htmx=True)
    assert response.status_code == 422
    assert "No customer matches “Nobody Such”." in response.text
    assert 'value="Nobody Such"' in response.text and 'value="Crates missing"' in response.text
    assert "Three crates short." in response.text and 'aria-invalid="true"' in response.text
    for bad in ({**data, "customer": ""}, {**data, "customer": "CUST-99999"},
                {**data, "customer": number_of(app, customer_id), "subject": "  "}):
        assert auth.post("/tickets/new", bad).status_code == 422
    assert tickets_count(app) == 0


def test_a_new_ticket_sent_twice_opens_one(app, client, auth, customer_id):
    auth.sign_in("sales")
    key = new_form_key()
    data = {"customer": number_of(app, customer_id), "subject": "Wrong invoice",
            "direction": "inbound", "body": "", "assignee_id": "", "form_key": key}
    first = auth.post("/tickets/new", data)
    second = auth.post("/tickets/new", data)
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert tickets_count(app) == 1


def test_viewers_have_no_new_ticket(app, client, auth):
    auth.sign_in("viewer")
    assert "New ticket" not in client.get("/tickets").text
    assert client.get("/tickets/new").status_code == 403


def test_the_overview_links_to_the_communications_tabs_ticket_form(app, client, auth,
                                                                  customer_id):
    auth.sign_in("sales")
    overview = client.get(f"/customers/{customer_id}").text
    link = f'href="/customers/{customer_id}/communications/log#quick-log" class="new-ticket">New'
    assert link in overview
    tab = client.get(f"/customers/{customer_id}/communications/log").text  # the tab, form open
    assert re.search(r'<details class="card quick-log-fold" open>\s*<summary>', tab)
    assert 'id="quick-log"' in tab and 'name="open_ticket"' in tab and 'id="timeline"' in tab


# -- reschedule and snooze -------------------------------------------------------------------

def one_follow_up(app, auth, customer_id, due):
    log_with_follow_up(auth, customer_id, due, subject="Call about Friday")
    with app.app_context():
        return db.session.scalar(select(Interaction.id))


def due_of(app, entry_id):
    with app.app_context():
        return db.session.get(Interaction, entry_id).follow_up_due


def audited(app):
    with app.app_context():
        return db.session.execute(select(AuditEvent.action, AuditEvent.fields, AuditEvent.actor_id)
                                  .where(AuditEvent.entity_type == "interaction")
                                  .order_by(AuditEvent.id)).all()[1:]  # after the create


def test_a_follow_up_is_rescheduled_from_the_list_and_audited(app, client, auth, customer_id):
    me = auth.sign_in("sales")
    day = today(app)
    entry_id = one_follow_up(app, auth, customer_id, day)
    page = client.get("/follow-ups").text
    assert f'action="/interactions/{entry_id}/follow-up/reschedule"' in page
    later = day + timedelta(days=10)
    response = auth.post(f"/interactions/{entry_id}/follow-up/reschedule",
                         {f"follow-up-{entry_id}-follow_up_due": later.isoformat()},
                         page="/follow-ups", htmx=True)
    assert response.status_code == 200 and "Coming up" in response.text
    assert "Follow-up moved to" in response.headers["HX-Trigger"]
    assert due_of(app, entry_id) == later
    assert audited(app) == [("update", ["follow_up_due"], me)]


def test_snooze_a_day_or_a_week_and_twice_is_once(app, client, auth, customer_id):
    auth.sign_in("sales")
    day = today(app)
    entry_id = one_follow_up(app, auth, customer_id, day - timedelta(days=3))  # overdue
    page = client.get("/follow-ups").text
    tomorrow, week = day + timedelta(days=1), day + timedelta(weeks=1)
    name = f"follow-up-{entry_id}-snooze"
    assert f'name="{name}" value="{tomorrow.isoformat()}">+1 day' in page
    assert f'name="{name}" value="{week.isoformat()}">+1 week' in page
    for _ in range(2):  # a double click sends the same date: moved once
        response = auth.post(f"/interactions/{entry_id}/follow-up/reschedule",
                             {name: week.isoformat(),
                              f"follow-up-{entry_id}-follow_up_due": (day - timedelta(days=3)).isoformat()},
                             page="/follow-ups")
        assert response.status_code == 303
    assert due_of(app, entry_id) == week
    assert len(audited(app)) == 1


def test_a_past_date_is_refused_with_a_message(app, client, auth, customer_id):
    auth.sign_in("sales")
    day = today(app)
    entry_id = one_follow_up(app, auth, customer_id, day)
    for data in ({f"follow-up-{entry_id}-follow_up_due": (day - timedelta(days=1)).isoformat()},
                 {f"follow-up-{entry_id}-snooze": (day - timedelta(days=2)).isoformat()},
                 {f"follow-up-{entry_id}-follow_up_due": ""}):
        response = auth.post(f"/interactions/{entry_id}/follow-up/reschedule", data,
                             page="/follow-ups", htmx=True)
        assert response.status_code == 422
        assert ("cannot be due in the past" in response.text
                or "Choose the new due date." in response.text)
        assert f'id="follow-up-{entry_id}-follow_up_due"' in response.text
        assert 'aria-invalid="true"' in response.text
    assert due_of(app, entry_id) == day and audited(app) == []


def test_someone_elses_follow_up_cannot_be_moved(app, client, auth, customer_id):
    auth.sign_in("sales")
    entry_id = one_follow_up(app, auth, customer_id, today(app))
    other = Auth(app, app.test_client())
    other.sign_in("finance")
    moved = other.post(f"/interactions/{entry_id}/follow-up/reschedule",
                       {f"follow-up-{entry_id}-follow_up_due":
                        (today(app) + timedelta(days=2)).isoformat()}, page="/follow-ups")
    assert moved.status_code == 403 and due_of(app, entry_id) == today(app)


# -- the person to call ----------------------------------------------------------------------

def test_follow_ups_show_the_person_with_tap_to_call_and_email(app, client, auth, customer_id):
    auth.sign_in("sales")
    with app.app_context():
        contact = db.session.get(Customer, customer_id).contact_links[0].contact
        phone, email, contact_id = contact.primary_phone.phone, contact.primary_email.email, contact.id
    log_with_follow_up(auth, customer_id, today(app), contact_id=str(contact_id))
    log_with_follow_up(auth, customer_id, today(app), subject="Nobody named")  # the primary one
    page = client.get("/follow-ups").text
    assert page.count(f'<a class="tap" href="tel:{phone}">') == 2
    assert page.count(f'<a class="tap" href="mailto:{email}">{email}</a>') == 2
    assert "(primary contact)" in page


# -- the team's follow-ups ---------------------------------------------------------------------

def team(app, customer_id):
    """A sales person (2 overdue, 1 later) and a finance person (1 overdue); returns their ids
    and a client signed in as each."""
    sales, finance = Auth(app, app.test_client()), Auth(app, app.test_client())
    sales_id, finance_id = sales.sign_in("sales"), finance.sign_in("finance")
    day = today(app)
    log_with_follow_up(sales, customer_id, day - timedelta(days=2), subject="Sales late one")
    log_with_follow_up(sales, customer_id, day - timedelta(days=1), subject="Sales late two")
    log_with_follow_up(sales, customer_id, day + timedelta(days=4), subject="Sales later")
    log_with_follow_up(finance, customer_id, day - timedelta(days=1), subject="Finance late")
    return sales, sales_id, finance, finance_id


def test_managers_see_the_teams_follow_ups_and_overdue_per_person(app, client, auth,
                                                                   customer_id):
    sales, sales_id, finance, finance_id = team(app, customer_id)
    auth.sign_in("manager")
    mine = client.get("/follow-ups").text  # the default is still "mine"
    assert "My follow-ups" in mine and "Sales late one" not in mine
    assert '<option value="all">Everyone&#39;s</option>' in mine or "Everyone's</option>" in mine
    rows = re.findall(r'<a href="/follow-ups\?assignee=(\d+)">[^<]+</a>[^<]*(?:<span[^>]*>[^<]*</span>)?</td><td class="num">(\d+)</td>', mine)
    assert rows == [(str(sales_id), "2"), (str(finance_id), "1")]
    everyone = client.get("/follow-ups?assignee=all").text
    assert "Everyone&#39;s follow-ups" in everyone or "Everyone's follow-ups" in everyone
    for subject in ("Sales late one", "Sales late two", "Sales later", "Finance late"):
        assert subject in everyone
    assert "for Sales Person" in everyone and "for Finance Person" in everyone
    one = client.get(f"/follow-ups?assignee={finance_id}").text
    assert "Finance late" in one and "Sales late one" not in one
    assert client.get("/follow-ups?assignee=999999").status_code == 404


def test_a_sales_user_sees_only_their_own(app, client, auth, customer_id):
    sales, sales_id, finance, finance_id = team(app, customer_id)
    page = sales.client.get("/follow-ups").text
    assert "Sales late one" in page and "Finance late" not in page
    assert "Overdue per person" not in page and 'name="assignee"' not in page
    assert sales.client.get("/follow-ups?assignee=all").status_code == 403
    assert sales.client.get(f"/follow-ups?assignee={finance_id}").status_code == 403
    assert sales.client.get(f"/follow-ups?assignee={sales_id}").status_code == 200


# -- Activity names a person once ----------------------------------------------------------------

def test_activity_does_not_repeat_a_name(app, client, auth):
    auth.sign_in("manager")
    with app.app_context():
        member = factories.customer("Rosa Tester1", kind="csa_member")  # the contact's name
        customer_id, number = member.id, member.number
        contact = member.contact_links[0].contact
        assert contact.full_name.startswith("Rosa Tester")
        db.session.get(Customer, customer_id).name = contact.full_name
        db.session.commit()
        name, contact_id = contact.full_name, contact.id
    log_on_tab(auth, customer_id, entry(contact_id=str(contact_id)), htmx=True)
    page = client.get("/activity").text
    head = re.search(r'<p class="entry-head">(.*?)</p>', page, re.S).group(1)
    plain = " ".join(re.sub(r"<[^>]+>", "", head).split())
    assert plain.count(name) == 1, plain
    assert f"with {name} · {number}" in plain and "logged by Manager Person" in plain
