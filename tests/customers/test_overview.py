"""The Overview says what matters: who to call (tap-to-call, email), the next delivery and
what goes, the latest interaction, follow-ups and open tickets — for the roles that may see
each, in a fixed number of queries."""
from datetime import date, time, timedelta

from crm.catalogue.models import Route
from crm.common import farm_today, utcnow
from crm.communications.models import Interaction, Ticket
from crm.extensions import db
from crm.preferences.models import DeliveryPause, DeliveryPlan, StandingItem
from tests import factories
from tests.customers.test_list import queries_for


def seeded(app, *, weekdays=None, paused_days=0):
    """A customer delivered on `weekdays` (default: tomorrow's), a standing item, a call with a
    follow-up due yesterday, an open ticket."""
    with app.app_context():
        products, packagings = factories.catalogue()
        customer = factories.customer("Glance Cafe")
        tomorrow = farm_today() + timedelta(days=1)
        route = Route(name="North")
        db.session.add(DeliveryPlan(
            customer_id=customer.id, weekdays=weekdays or 1 << tomorrow.weekday(),
            window_start=time(7), window_end=time(9, 30), route=route, stop_order=4,
            call_ahead=True))
        if paused_days:
            db.session.add(DeliveryPause(customer_id=customer.id, starts_on=farm_today(),
                                         ends_on=farm_today() + timedelta(days=paused_days)))
        db.session.add(StandingItem(customer_id=customer.id, product=products["Pea shoots"],
                                    size="4 oz", quantity=6,
                                    packaging=next(iter(packagings.values()))))
        contact = customer.contact_links[0].contact
        db.session.add(Interaction(
            customer_id=customer.id, contact_id=contact.id, channel="call", direction="outbound",
            subject="Asked about sunflower", occurred_at=utcnow(), logged_by_kind="system",
            follow_up_due=farm_today() - timedelta(days=1)))
        db.session.add(Ticket(customer_id=customer.id, subject="Wilted radish",
                              opened_by_kind="system"))
        db.session.commit()
        phone, email = contact.primary_phone.phone, contact.primary_email.email
        return customer.id, tomorrow, phone, email, route.name


def test_the_overview_says_who_to_call_the_next_delivery_and_what_is_open(app, client, auth):
    customer_id, tomorrow, phone, email, route = seeded(app)
    auth.sign_in("sales")
    page = client.get(f"/customers/{customer_id}").text
    assert f'href="tel:{phone}"' in page and f'href="mailto:{email}"' in page
    assert "Who to call" in page and "Primary" in page
    assert f"<strong>{tomorrow.strftime('%a %b %-d')}</strong>, 7:00 AM–9:30 AM" in page
    assert f"{route}, stop 4" in page and "Call ahead" in page
    assert "6 × Pea shoots 4 oz" in page
    assert f'href="/delivery/customers/{customer_id}"' in page  # the preference sheet
    assert "Asked about sunflower" in page and "(overdue)" in page
    assert "Wilted radish" in page and "T-0" in page


def test_a_paused_customer_shows_the_first_delivery_after_the_pause(app, client, auth):
    every_day = 0b1111111
    customer_id, *_ = seeded(app, weekdays=every_day, paused_days=3)
    auth.sign_in("sales")
    page = client.get(f"/customers/{customer_id}").text
    with app.app_context():
        after = farm_today() + timedelta(days=4)
    assert f"<strong>{after.strftime('%a %b %-d')}</strong>" in page


def test_roles_see_only_their_cards(app, client, auth):
    customer_id, *_ = seeded(app)
    auth.sign_in("delivery")  # no communications
    page = client.get(f"/customers/{customer_id}").text
    assert "Next delivery" in page and "Who to call" in page
    assert "Wilted radish" not in page and "Asked about sunflower" not in page


def test_the_overview_costs_the_same_queries_with_more_people_and_history(app, client, auth):
    customer_id, *_ = seeded(app)
    auth.sign_in("sales")
    before = queries_for(app, client, f"/customers/{customer_id}")
    with app.app_context():
        from crm.contacts.models import Contact, ContactEmail, CustomerContact
        from crm.customers.models import Customer

        customer = db.session.get(Customer, customer_id)
        for n in range(6):
            person = Contact(first_name=f"Extra{n}")
            person.emails.append(ContactEmail(email=f"x{n}@ex.example.com", email_bidx=f"b{n}"))
            db.session.add(CustomerContact(customer=customer, contact=person, role="kitchen"))
            db.session.add(Interaction(customer_id=customer_id, channel="note",
                                       direction="internal", subject=f"Note {n}",
                                       occurred_at=utcnow(), logged_by_kind="system",
                                       follow_up_due=date(2030, 1, 1 + n)))
            db.session.add(Ticket(customer_id=customer_id, subject=f"T {n}",
                                  opened_by_kind="system"))
        db.session.commit()
    assert queries_for(app, client, f"/customers/{customer_id}") == before
