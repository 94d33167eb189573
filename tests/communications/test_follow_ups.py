"""Follow-ups: given when logging, listed in My follow-ups, done in one click, counted in the nav."""
from datetime import date, timedelta

from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.common import farm_today
from crm.communications.models import Interaction
from crm.extensions import db
from tests.communications.test_timeline import entry, interactions, log_on_tab
from tests.conftest import Auth


def log_with_follow_up(auth, customer_id, due, **changes):
    return log_on_tab(auth, customer_id, entry(follow_up_due=due.isoformat(), **changes),
                      htmx=True)


def today(app):
    with app.app_context():
        return farm_today()


def test_a_follow_up_defaults_to_the_logger_and_counts_as_overdue_in_the_nav(
        app, client, auth, customer_id):
    me = auth.sign_in("sales")
    yesterday = today(app) - timedelta(days=1)
    response = log_with_follow_up(auth, customer_id, yesterday)
    assert response.status_code == 200
    assert f"Overdue: follow up by {yesterday:%a %b} {yesterday.day}" in response.text
    assert 'hx-swap-oob="true"> <span class="count">1</span>' in response.text  # nav count now
    with app.app_context():
        stored = db.session.scalar(select(Interaction))
        assert stored.follow_up_assignee_id == me and stored.follow_up_due == yesterday
    page = client.get("/customers/")  # the count arrives in one request after the page
    assert 'id="nav-badge-my_follow_ups" class="nav-badge"></span>' in page.text
    assert 'hx-get="/nav/badges" hx-trigger="load"' in page.text
    badges = client.get("/nav/badges", headers={"HX-Request": "true"})
    assert '<span class="count">1</span><span class="visually-hidden"> overdue</span>' in badges.text


def test_my_follow_ups_groups_by_due_date_and_shows_only_mine(app, client, auth, customer_id):
    me = auth.sign_in("sales")
    colleague = auth.make_user("finance")
    day = today(app)
    log_with_follow_up(auth, customer_id, day - timedelta(days=3), subject="Late invoice call")
    log_with_follow_up(auth, customer_id, day, subject="Call about Friday")
    log_with_follow_up(auth, customer_id, day + timedelta(days=5), subject="Holiday order")
    log_with_follow_up(auth, customer_id, day, subject="For the colleague",
                       follow_up_assignee_id=str(colleague))
    page = client.get("/follow-ups")
    text = page.text
    assert text.index("Overdue") < text.index("Late invoice call") < text.index("Due today")
    assert text.index("Due today") < text.index("Call about Friday") < text.index("Coming up")
    assert text.index("Coming up") < text.index("Holiday order")
    assert "For the colleague" not in text
    assert me != colleague


def test_done_in_one_click_updates_the_row_and_the_nav_count(app, client, auth, customer_id):
    auth.sign_in("sales")
    log_with_follow_up(auth, customer_id, today(app) - timedelta(days=1))
    with app.app_context():
        entry_id = db.session.scalar(select(Interaction.id))
    response = auth.post(f"/interactions/{entry_id}/follow-up/done", page="/follow-ups", htmx=True)
    assert response.status_code == 200
    assert "Follow-up done" in response.text
    assert 'id="nav-badge-my_follow_ups" class="nav-badge" hx-swap-oob="true"></span>' in response.text
    assert "Nothing to follow up" in client.get("/follow-ups").text
    with app.app_context():
        assert db.session.scalar(select(Interaction.follow_up_done_at)) is not None
        assert db.session.scalars(select(AuditEvent.fields).where(
            AuditEvent.action == "update")).all() == [["follow_up_done_at"]]
    again = auth.post(f"/interactions/{entry_id}/follow-up/done", page="/follow-ups")
    assert again.status_code == 303  # a second click changes nothing


def test_someone_elses_follow_up_cannot_be_closed_but_a_manager_can(app, client, auth,
                                                                     customer_id):
    auth.sign_in("sales")
    log_with_follow_up(auth, customer_id, today(app))
    with app.app_context():
        entry_id = db.session.scalar(select(Interaction.id))
    other = app.test_client()
    Auth(app, other).sign_in("finance")
    assert Auth(app, other).post(f"/interactions/{entry_id}/follow-up/done",
                                 page="/follow-ups").status_code == 403
    manager = app.test_client()
    Auth(app, manager).sign_in("manager")
    assert Auth(app, manager).post(f"/interactions/{entry_id}/follow-up/done",
                                   page="/follow-ups").status_code == 303


def test_follow_up_bad_input(app, client, auth, customer_id):
    auth.sign_in("sales")
    no_date = log_on_tab(auth, customer_id, entry(follow_up_assignee_id=str(auth.user_id)),
                         htmx=True)
    assert no_date.status_code == 422 and "Give the follow-up a due date too." in no_date.text
    viewer = auth.make_user("viewer")  # viewers cannot log, so they get no follow-ups
    wrong = log_with_follow_up(auth, customer_id, date(2026, 12, 1),
                               follow_up_assignee_id=str(viewer))
    assert wrong.status_code == 422 and "Choose someone from the list." in wrong.text
    bad_date = log_on_tab(auth, customer_id, entry(follow_up_due="next week"), htmx=True)
    assert bad_date.status_code == 422 and "Not a valid date value." in bad_date.text
    assert interactions(app) == 0


def test_viewers_have_no_follow_ups_page(app, client, auth):
    auth.sign_in("viewer")
    assert client.get("/follow-ups").status_code == 403
    assert "Follow-ups" not in client.get("/customers/").text
