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
from tests.conftest import Auth
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


def filled(app, customer_id, staff_id):
    """Much of everything the Overview's cards read: people with several numbers and emails
    (the primary one not the first), more standing items than shown (with substitutes), a
    plan with a route and pauses, interactions with follow-ups, open tickets."""
    from crm.contacts.models import Contact, ContactEmail, ContactPhone, CustomerContact
    from crm.customers.models import Customer

    with app.app_context():
        products, packagings = factories.catalogue()
        names = sorted(products)
        customer = db.session.get(Customer, customer_id)
        for n, role in enumerate(("billing", "kitchen", "ordering", "primary")):  # phones only
            person = Contact(first_name=f"Person{n}", last_name=None if n % 2 else f"Last{n}")
            for m in range(2):
                person.phones.append(ContactPhone(phone=f"+1312555{3000 + 10 * n + m}",
                                                  phone_bidx=f"p{n}{m}", is_primary=m == 1))
                person.emails.append(ContactEmail(email=f"p{n}{m}@ex.example.com",
                                                  email_bidx=f"e{n}{m}"))
            db.session.add(CustomerContact(customer=customer, contact=person, role=role))
        today = farm_today()
        db.session.add(DeliveryPlan(customer_id=customer_id, weekdays=0b1111111,
                                    route=Route(name="South"), stop_order=2))
        for start in (0, 10):
            db.session.add(DeliveryPause(customer_id=customer_id,
                                         starts_on=today + timedelta(days=start),
                                         ends_on=today + timedelta(days=start + 1)))
        for n in range(7):
            db.session.add(StandingItem(
                customer_id=customer_id, product=products[names[n % len(names)]], size="2 oz",
                quantity=n + 1, packaging=next(iter(packagings.values())),
                substitutions_allowed=n % 2 == 0,
                substitutes=[products[names[(n + 1) % len(names)]]] if n == 0 else []))
            db.session.add(Interaction(
                customer_id=customer_id, channel="call", direction="outbound",
                subject=f"Subject {n}" if n % 2 else None, body=f"Body {n}",
                occurred_at=utcnow() - timedelta(days=n), logged_by_kind="staff",
                logged_by_id=staff_id, follow_up_due=today + timedelta(days=n - 2),
                follow_up_assignee_id=staff_id if n % 2 else None))
            db.session.add(Ticket(customer_id=customer_id, subject=f"Ticket {n}",
                                  opened_by_kind="system", status=("open", "pending")[n % 2]))
        db.session.commit()
        return names


def test_the_overview_costs_the_same_statements_with_nothing_and_with_much(app, client, auth):
    """From a customer with nothing yet (no people, plan, items or history) to one with much
    of each: not one statement more, for a role seeing every card and for one seeing fewer."""
    with app.app_context():
        customer_id = factories.customer("Empty Kitchen", contact=False, address=False).id
    url = f"/customers/{customer_id}"
    staff_id = auth.sign_in("sales")
    delivery = app.test_client()
    Auth(app, delivery).sign_in("delivery")
    page = client.get(url).text
    assert "Nobody on record yet." in page and "No delivery days set." in page
    assert "Nothing logged yet." in page
    empty = queries_for(app, client, url), queries_for(app, delivery, url)
    assert empty[1] < empty[0]  # no communications card, no statements for it

    filled(app, customer_id, staff_id)
    assert (queries_for(app, client, url), queries_for(app, delivery, url)) == empty
    page = client.get(url).text
    assert "2 more on the Contacts tab" in page and "and 3 more" in page
    assert "Ticket 4" in page and "Ticket 5" not in page  # five shown


def test_the_overview_shows_the_first_of_each_in_its_order(app, client, auth):
    """Who to call: by role (primary first), each person's primary number and email, else
    the first; the first four standing items with their substitutes; the latest interaction's
    subject, else what was said; follow-ups by due date, their subject, else their channel."""
    with app.app_context():
        customer_id = factories.customer("Full Kitchen", contact=False, address=False).id
    staff_id = auth.sign_in("sales")
    names = filled(app, customer_id, staff_id)
    page = client.get(f"/customers/{customer_id}").text
    people = page[page.index("Who to call"):page.index("more on the Contacts tab")]
    assert people.index("Person3<") < people.index("Person2 Last2<")  # primary, ordering
    assert "Person0" not in people and "Person1" not in people
    assert 'href="tel:+13125553031"' in people and "+13125553030" not in people
    # no primary email: the first
    assert 'href="mailto:p30@ex.example.com"' in people and "p31@" not in people
    assert f"1 × {names[0]} 2 oz" in page and f"substitutes: {names[1]}" in page
    assert f"3 × {names[2]} 2 oz, " in page and "substitutes: any" in page
    assert f"4 × {names[3]} 2 oz" in page and f"5 × {names[4]} 2 oz" not in page
    card = page[page.index('id="glance-comms"'):]
    latest = card[:card.index("<h4>Follow-ups")]
    assert "Body 0" in latest and "logged by" in latest
    follow_ups = card[card.index("<h4>Follow-ups"):card.index("<h4>Open tickets")]
    assert follow_ups.count("(overdue)") == 2 and "Subject 1" in follow_ups
    assert follow_ups.index("Call") < follow_ups.index("Subject 1")  # no subject: its channel
    assert "Subject 5" not in follow_ups  # five shown
