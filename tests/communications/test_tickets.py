"""Support tickets: opened from the quick log, a status, an assignee, a thread, an open list."""
from datetime import timedelta

from sqlalchemy import select, update

from crm.common import utcnow
from crm.communications.models import Interaction, Ticket
from crm.extensions import db
from tests.communications.test_timeline import entry, log_on_tab
from tests.conftest import Auth


def open_ticket(app, auth, customer_id, subject="Wilted pea shoots"):
    log_on_tab(auth, customer_id, entry(open_ticket="y", direction="inbound", subject=subject,
                                        body="Tuesday's pea shoots arrived wilted."), htmx=True)
    with app.app_context():
        return db.session.scalar(select(Ticket.id).order_by(Ticket.id.desc()))


def test_a_ticket_entry_opens_a_ticket_with_its_thread(app, client, auth, customer_id):
    auth.sign_in("sales")
    ticket_id = open_ticket(app, auth, customer_id)
    tab = client.get(f"/customers/{customer_id}/communications").text
    assert f"Ticket T-{ticket_id:05d}" in tab and "Open" in tab
    page = client.get(f"/tickets/{ticket_id}")
    assert page.status_code == 200
    assert "Wilted pea shoots" in page.text and "arrived wilted" in page.text
    reply = auth.post(f"/tickets/{ticket_id}/replies",
                      {"direction": "outbound", "body": "Credit issued, fresh tray Friday."},
                      page=f"/tickets/{ticket_id}", htmx=True)
    assert reply.status_code == 200 and "Credit issued" in reply.text
    assert reply.text.index("arrived wilted") < reply.text.index("Credit issued")  # oldest first
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Interaction).where(
            Interaction.ticket_id == ticket_id)) == 2


def test_open_tickets_are_listed_oldest_first_with_their_age(app, client, auth, customer_id):
    auth.sign_in("viewer")
    maker = Auth(app, app.test_client())
    maker.sign_in("sales")
    old = open_ticket(app, maker, customer_id, "Old complaint")
    new = open_ticket(app, maker, customer_id, "New question")
    done = open_ticket(app, maker, customer_id, "Already solved")
    with app.app_context():
        db.session.execute(update(Ticket).where(Ticket.id == old).values(
            opened_at=utcnow() - timedelta(days=3, hours=2)))
        db.session.execute(update(Ticket).where(Ticket.id == new).values(
            opened_at=utcnow() - timedelta(hours=1)))
        db.session.execute(update(Ticket).where(Ticket.id == done).values(status="resolved"))
        db.session.commit()
    listing = client.get("/tickets").text
    assert listing.index("Old complaint") < listing.index("New question")
    assert "Already solved" not in listing and "3 days" in listing
    assert "Already solved" in client.get("/tickets?status=resolved").text


def test_status_and_assignee_change_refuses_stale_saves(app, client, auth, customer_id):
    me = auth.sign_in("sales")
    ticket_id = open_ticket(app, auth, customer_id)
    url = f"/tickets/{ticket_id}"
    saved = auth.post(url, {"status": "pending", "assignee_id": str(me), "version": "1"},
                      htmx=True)
    assert saved.status_code == 200 and "is pending." in saved.headers["HX-Trigger"]
    stale = auth.post(url, {"status": "resolved", "assignee_id": "", "version": "1"}, htmx=True)
    assert stale.status_code == 409 and "Someone else changed this ticket" in stale.text
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert (ticket.status, ticket.assignee_id, ticket.resolved_at) == ("pending", me, None)
    resolved = auth.post(url, {"status": "resolved", "assignee_id": str(me), "version": "2"},
                         htmx=True)
    assert resolved.status_code == 200
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).resolved_at is not None
    auth.post(f"{url}/replies", {"direction": "inbound", "body": "It happened again."},
              page=url)
    with app.app_context():  # a new message reopens it
        assert db.session.get(Ticket, ticket_id).status == "open"


def test_ticket_bad_input(app, client, auth, customer_id):
    auth.sign_in("sales")
    ticket_id = open_ticket(app, auth, customer_id)
    url = f"/tickets/{ticket_id}"
    for data, message in (({"status": "closed", "assignee_id": "", "version": "1"},
                           "Not a valid choice."),
                          ({"status": "open", "assignee_id": "99999", "version": "1"},
                           "Choose someone from the list.")):
        response = auth.post(url, data, htmx=True)
        assert response.status_code == 422 and message in response.text
    empty = auth.post(f"{url}/replies", {"direction": "inbound", "body": "   "}, page=url)
    assert empty.status_code == 422 and "Write the message." in empty.text
    assert client.get("/tickets/999999").status_code == 404
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).version == 1


def test_viewers_read_tickets_but_cannot_change_them(app, client, auth, customer_id):
    maker = Auth(app, app.test_client())
    maker.sign_in("sales")
    ticket_id = open_ticket(app, maker, customer_id)
    auth.sign_in("viewer")
    page = client.get(f"/tickets/{ticket_id}")
    assert page.status_code == 200 and "Add message" not in page.text
    assert auth.post(f"/tickets/{ticket_id}", {"status": "resolved", "version": "1"},
                     page=f"/tickets/{ticket_id}").status_code == 403
