"""The quick log's silent traps (issue 14): a remembered "ticket" channel opening tickets by
accident, and calls logged with nothing said."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.common import SYSTEM, Actor, utcnow
from crm.communications.forms import LOG_CHANNELS
from crm.communications.models import Interaction, Ticket
from crm.communications.services import (
    NOTHING_SAID,
    InteractionError,
    last_channel,
    log_interaction,
    update_interaction,
)
from crm.customers.models import Customer
from crm.extensions import db
from tests.communications.test_timeline import contact_of, entry, interactions, log_on_tab


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def select_of(html, id):
    """The <select> with this id and the value of its selected option ("" when none is)."""
    found = re.search(rf'<select id="{id}"[^>]*>.*?</select>', html, re.S)
    assert found, f"no select #{id}"
    chosen = re.search(r'<option selected value="([^"]*)"', found.group(0))
    return found.group(0), chosen.group(1) if chosen else ""


def blank(**changes):
    """The quick log as it comes, with nothing typed: no subject, nothing said, no outcome."""
    return entry(**{"subject": "", "body": "", "outcome": "", "duration_minutes": "",
                    **changes})


# -- 1. a ticket is opened on purpose, never by the remembered channel ------------------------

def test_after_a_ticket_the_quick_log_remembers_the_last_ordinary_channel(
        app, client, auth, customer_id):
    auth.sign_in("sales")
    url = f"/customers/{customer_id}/communications"
    assert log_on_tab(auth, customer_id, entry(channel="email"), htmx=True).status_code == 200
    opened = log_on_tab(auth, customer_id, entry(open_ticket="y", subject="Wilted pea shoots"),
                        htmx=True)
    assert opened.status_code == 200
    assert count(app, Ticket) == 1
    with app.app_context():
        number = db.session.scalar(select(Ticket)).number
    assert f"Opened {number}." in opened.headers["HX-Trigger"]

    assert 'id="quick-log"' not in opened.text  # its fold comes back closed, the form unasked
    for html in (client.get(url + "/log", headers={"HX-Request": "true"}).text,  # unfolded
                 client.get(url + "/log").text):  # the tab with the quick log open
        channel, chosen = select_of(html, "channel")
        assert 'value="ticket"' not in channel  # not offered as a channel at all
        assert 'name="open_ticket" value="y"' in html and ">Open a ticket</button>" in html
    assert chosen == "email"  # the last channel that is not a ticket

    # The quick "call" typed into that form stays a call: no T-00002.
    call = log_on_tab(auth, customer_id, entry(channel=chosen, subject="Quick check-in"),
                      htmx=True)
    assert call.status_code == 200
    assert count(app, Ticket) == 1
    with app.app_context():
        newest = db.session.scalar(select(Interaction).order_by(Interaction.id.desc()))
        assert (newest.channel, newest.ticket_id) == ("email", None)


def test_a_ticket_channel_sent_without_the_button_is_refused(app, client, auth, customer_id):
    auth.sign_in("sales")
    response = log_on_tab(auth, customer_id, entry(channel="ticket"), htmx=True)
    assert response.status_code == 422
    assert "to open a ticket, use “Open a ticket”" in response.text
    assert count(app, Ticket) == 0 and interactions(app) == 0


def test_the_last_channel_leaves_tickets_out(app, app_ctx, auth, customer_id):
    me = auth.make_user("sales")
    customer = db.session.get(Customer, customer_id)
    when = utcnow() - timedelta(hours=1)
    for channel in ("sms", "ticket"):
        log_interaction(customer, {"channel": channel, "direction": "outbound",
                                   "subject": "Hello", "occurred_at": when},
                        actor=Actor.staff(me))
    assert last_channel(me) == "sms"


def test_the_contact_page_quick_log_never_preselects_a_ticket(app, client, auth, customer_id):
    auth.sign_in("sales")
    log_on_tab(auth, customer_id, entry(open_ticket="y"), htmx=True)
    page = client.get(f"/contacts/{contact_of(app, customer_id)}").text
    channel, chosen = select_of(page, "channel")
    assert 'value="ticket"' not in channel
    assert chosen == ""  # nothing remembered: the browser shows the first channel, a call


# -- 2. something must be said ----------------------------------------------------------------

def test_log_it_with_nothing_typed_saves_nothing_and_says_why(app, client, auth, customer_id):
    auth.sign_in("sales")
    response = log_on_tab(auth, customer_id, blank(duration_minutes="4"), htmx=True)
    assert response.status_code == 422
    assert NOTHING_SAID in response.text
    assert 'role="alert"' in response.text  # the form's error summary, announced
    assert 'name="duration_minutes" type="number" value="4"' in response.text  # kept
    assert interactions(app) == 0


@pytest.mark.parametrize("channel", sorted(LOG_CHANNELS))
def test_a_blank_entry_is_refused_on_every_channel(app, client, auth, customer_id, channel):
    auth.sign_in("sales")
    response = log_on_tab(auth, customer_id, blank(channel=channel), htmx=True)
    assert response.status_code == 422
    assert NOTHING_SAID in response.text or "A note needs some text." in response.text
    assert interactions(app) == 0


def test_a_blank_ticket_is_not_opened(app, client, auth, customer_id):
    auth.sign_in("sales")
    response = log_on_tab(auth, customer_id, blank(open_ticket="y"), htmx=True)
    assert response.status_code == 422 and NOTHING_SAID in response.text
    assert count(app, Ticket) == 0


@pytest.mark.parametrize("said", ["subject", "body", "outcome"])
def test_any_one_of_subject_body_or_outcome_is_enough(app, client, auth, customer_id, said):
    auth.sign_in("sales")
    response = log_on_tab(auth, customer_id, blank(**{said: "Left a voicemail"}), htmx=True)
    assert response.status_code == 200
    assert interactions(app) == 1


def test_the_service_refuses_blank_entries_whoever_logs_them(app, app_ctx, customer_id):
    """Every path (quick log, contact page, email files, jobs, the portal) goes through it."""
    customer = db.session.get(Customer, customer_id)
    data = {"channel": "call", "direction": "outbound", "occurred_at": utcnow(),
            "subject": "  ", "body": None, "outcome": ""}
    for actor in (SYSTEM, Actor.portal(7)):
        with pytest.raises(InteractionError, match=re.escape(NOTHING_SAID)):
            log_interaction(customer, data, actor=actor)
    logged = log_interaction(customer, {**data, "outcome": "Order confirmed"}, actor=SYSTEM)
    with pytest.raises(InteractionError, match=re.escape(NOTHING_SAID)):
        update_interaction(logged, {**data, "outcome": None}, expected_version=logged.version,
                           actor=SYSTEM)
    assert update_interaction(logged, {**data, "subject": "Friday order", "outcome": None},
                              expected_version=logged.version, actor=SYSTEM)


def test_editing_an_entry_to_blank_is_refused_on_the_form(app, client, auth, customer_id):
    auth.sign_in("sales")
    log_on_tab(auth, customer_id, entry(), htmx=True)
    with app.app_context():
        logged = db.session.scalar(select(Interaction))
        entry_id, version = logged.id, logged.version
    page = f"/interactions/{entry_id}/edit"
    data = {f"entry-{entry_id}-{k}": v for k, v in blank(version=str(version)).items()}
    response = auth.post(page, data, page="/customers/", htmx=True)
    assert response.status_code == 422 and NOTHING_SAID in response.text
    with app.app_context():
        assert db.session.get(Interaction, entry_id).subject == "Tuesday order"


# -- 6. Enter in a one-line field does not send it; "When" is one Tab stop ---------------------

def test_enter_cannot_send_the_quick_log_and_when_is_folded(app, client, auth, customer_id):
    """What the browser is given (tests/e2e/test_traps_journey.py drives it): the form's first
    submit button is a disabled one, so Enter in a text field submits nothing even without
    JavaScript (app.js stops it in date fields too); "When" defaults to now behind one
    <summary> instead of the datetime input's seven Tab stops."""
    auth.sign_in("sales")
    html = client.get(f"/customers/{customer_id}/communications/log").text
    form = re.search(r'<form id="quick-log"[^>]*>.*?</form>', html, re.S).group(0)
    assert "data-no-enter-submit" in form.split(">", 1)[0]
    submits = re.findall(r'<(?:input|button)[^>]* type="submit"[^>]*>', form)
    assert "disabled" in submits[0] and "hidden" in submits[0]  # the default button
    assert [s for s in submits[1:] if "disabled" in s] == []
    when = re.search(r'<details class="field wide when"[^>]*>.*?</details>', form, re.S)
    assert when and 'data-focus-on-open="#occurred_at"' in when.group(0)
    assert re.search(r"<summary>.*When.*Change.*</summary>", when.group(0), re.S)
    assert 'type="datetime-local"' in when.group(0)  # still the one native input, inside


def test_a_refused_when_is_shown_unfolded_with_its_error(app, client, auth, customer_id):
    auth.sign_in("sales")
    response = log_on_tab(auth, customer_id, entry(occurred_at="yesterday"), htmx=True)
    assert response.status_code == 422
    assert '<details class="field wide when"' not in response.text
    assert re.search(r'<input[^>]* aria-invalid="true"[^>]* type="datetime-local"',
                     response.text)
