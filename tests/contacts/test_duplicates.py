"""The duplicate scan and the "Possible duplicates" page: what is found (and what is not), the
reasons, dismissals, roles, the progress component, query counts and the command line."""
import json
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.common import SYSTEM, utcnow
from crm.contacts import duplicate_scan, duplicates
from crm.contacts.duplicate_scan import REASONS, scan
from crm.contacts.models import Contact, DuplicateDismissal, DuplicatePair
from crm.contacts.services import add_contact, link_contact
from crm.customers.models import Address
from crm.extensions import db
from crm.jobs.models import JobRun
from tests import factories
from tests.customers.test_list import count_queries

HTMX = {"HX-Request": "true"}
PAGE = "/contacts/duplicates"


def person(first, last=None, email=None, phone=None):
    return {"first_name": first, "last_name": last, "email": email, "phone": phone}


def shop(name, *people, postal="60614", city="Chicago", archived=False, **fields):
    """A customer with a delivery address (unless postal and city are None) and these people."""
    customer = factories.customer(name, contact=False, address=False, commit=False, **fields)
    if postal or city:
        db.session.add(Address(customer=customer, kind="delivery", street="1 W Main St",
                               city=city or "", region="IL", postal_code=postal, country="US"))
    for each in people:
        add_contact(customer, each, role="ordering", actor=SYSTEM)
    customer.archived_at = utcnow() if archived else None  # (nothing is added once archived)
    db.session.commit()
    return customer


def contact_of(customer, n=0):
    return sorted(link.contact_id for link in customer.contact_links)[n]


def key(a, b):
    return (min(a, b), max(a, b))


def stored(kind):
    """{(low, high): (score, reasons)} of the stored pairs of one kind."""
    return {(p.low_id, p.high_id): (p.score, p.reasons) for p in db.session.scalars(
        select(DuplicatePair).where(DuplicatePair.kind == kind))}


def run_scan():
    result = scan()
    db.session.commit()
    return result


# -- what the scan finds ---------------------------------------------------------------------

def test_same_email_and_same_phone_are_found(app_ctx):
    one = shop("Harvest Table", person("Maria", "Lopez", "maria@lopez.example", "+13125550101"))
    two = shop("Kinship Noodle Bar", person("Maria", "Lopez", "Maria@Lopez.example",
                                            "+13125550102"), postal="60201", city="Evanston")
    three = shop("Juniper & Rye", person("Sam", "Okafor", "sam@okafor.example", "+17735550177"),
                 postal="60647")
    four = shop("Osteria Verde", person("Sam", "Okafor", phone="+17735550177"),
                postal="60302", city="Oak Park")
    result = run_scan()
    people = stored("contact")
    maria = key(contact_of(one), contact_of(two))
    sam = key(contact_of(three), contact_of(four))
    assert people[maria] == (70, ["same_email", "same_name", "different_phones"])
    assert people[sam] == (65, ["same_phone", "same_name"])
    assert set(people) == {maria, sam}
    assert result["contacts"] == 2
    # Their customers share a contact's email / phone, but their names differ: not suggested.
    assert stored("customer") == {}


def test_similar_names_at_the_same_postal_code_or_customer_are_found(app_ctx):
    jon = shop("Harvest Table", person("Jon", "Smith"))
    john = shop("Kinship Noodle Bar", person("John", "Smith", phone="+13125550111"))
    silvas = shop("Pistil Vegetarian", person("Ana", "Silva", "ana@pistil.example"),
                  person("Anna", "Silva", "anna@pistil.example"), postal="60640")
    cafe = shop("Golden Radish Cafe", person("Rosa", "Marquez", "rosa@radish.example"))
    café = shop("Golden Radish Café", person("Ben", "Carter", "ben@radish.example"))
    far = shop("Golden Radish Cafe", postal="60201", city="Evanston")
    run_scan()
    people = stored("contact")
    assert people == {
        key(contact_of(jon), contact_of(john)): (50, ["similar_name_same_postal_code"]),
        key(contact_of(silvas, 0), contact_of(silvas, 1)):
            (50, ["similar_name_same_customer", "different_emails"]),
    }
    customers = stored("customer")
    assert customers[key(cafe.id, café.id)] == (
        70, ["same_name_same_postal_code", "different_contact_emails"])
    # The same name in another city and postal code is not enough on its own.
    assert key(cafe.id, far.id) not in customers and key(café.id, far.id) not in customers
    assert all(set(reasons) <= set(REASONS) for _, reasons in [*people.values(),
                                                               *customers.values()])


def test_different_people_and_accounts_of_one_group_are_not_paired(app_ctx):
    # Names differing only by their numbers, at one postal code (the factory's Rosa TesterN).
    for _ in range(3):
        factories.customer()
    shop("Green City Market Stall 7", postal="60614")
    shop("Green City Market Stall 9", postal="60614")
    # A restaurant group: the parent, two locations with near-identical names, one buyer for all.
    group = shop("Blue Heron Hospitality", person("Dana", "Whitfield", "dana@heron.example"))
    buyer = db.session.get(Contact, contact_of(group))
    for where in ("Logan Square", "Andersonville"):
        location = shop(f"Blue Heron Bistro — {where}", parent_id=group.id)
        link_contact(location, buyer, "ordering", actor=SYSTEM)
    shop("Blue Heron Bistro", parent_id=group.id)  # the parent's name is similar too
    # Two people sharing the kitchen phone are two people.
    shop("Marrow Supper Club", person("Alex", "Kim", "alex@marrow.example", "+13125550188"),
         person("Priya", "Raman", "priya@marrow.example", "+13125550188"), postal="60622")
    # An archived copy is not suggested.
    shop("Saffron & Sumac", person("Lena", "Vogel", "lena@saffron.example"), postal="60608")
    shop("Saffron & Sumac", person("Lena", "Vogel", "lena@saffron.example"), postal="60608",
         archived=True)
    db.session.commit()
    result = run_scan()
    assert stored("customer") == {}
    # The archived customer's Lena has Lena's email: that pair of people is real.
    assert [reasons for _, reasons in stored("contact").values()] == [
        ["same_email", "same_name"]]
    assert result["customers"] == 0


def test_a_location_entered_twice_in_a_group_is_found(app_ctx):
    group = shop("Blue Heron Hospitality")
    one = shop("Blue Heron Bistro — Hyde Park", parent_id=group.id, postal="60615")
    two = shop("Blue Heron Bistro - Hyde Park", parent_id=group.id, postal="60615")
    shop("Blue Heron Bistro — Lakeview", parent_id=group.id, postal="60615")
    run_scan()
    assert stored("customer") == {key(one.id, two.id): (80, ["same_name_same_postal_code"])}


def test_a_common_name_with_different_emails_and_phones_is_not_suggested(app_ctx):
    """Five Alex Kims at one postal code, each with their own email and phone, are five
    people (the bench data is made of such clusters); the same name at one customer is not."""
    for n in range(5):
        shop(f"Kitchen {chr(65 + n)}", person("Alex", "Kim", f"alex{n}@example.net",
                                              f"+1773555{n:04d}"))
    run_scan()
    assert stored("contact") == {}


def test_pairs_per_record_and_overall_are_capped(app_ctx, monkeypatch):
    monkeypatch.setattr(duplicate_scan, "MAX_PAIRS", 3)
    for n in range(6):
        shop(f"Kitchen {chr(65 + n)}", person("Riley", "Novak"))
    result = run_scan()
    people = stored("contact")
    assert len(people) == 3 and result["contacts"] == 3
    assert result["dropped"]["contact"] > 0 and result["scored"]["contact"] > 3


# -- the page ------------------------------------------------------------------------------

def two_pairs(app):
    """A pair of people and a pair of customers, scanned: their ids."""
    with app.app_context():
        a = shop("Golden Radish Cafe", person("Maria", "Lopez", "maria@lopez.example"))
        b = shop("Golden Radish Café", person("Maria", "Lopez", "maria@lopez.example"))
        run_scan()
        return {"customers": key(a.id, b.id), "people": key(contact_of(a), contact_of(b))}


def test_the_page_lists_pairs_side_by_side_with_reasons_and_links(app, client, auth):
    auth.sign_in("manager")
    ids = two_pairs(app)
    page = client.get(PAGE)
    assert page.status_code == 200 and "<html" in page.text
    text = page.text
    assert "Possible duplicates" in text and "Maria Lopez" in text
    assert "maria@lopez.example" in text and "Same email address" in text
    low, high = ids["people"]
    assert f'href="/merge/contact/{low}/{high}"' in text
    assert f'/contacts/duplicates/contact/{low}/{high}/dismiss' in text
    assert ('Not duplicates<span class="visually-hidden"> (Maria Lopez and Maria Lopez)</span>'
            in text)
    assert "No scan has run yet." in text  # scanned by the service here, not as a job
    customers = client.get(PAGE + "?kind=customer")
    low, high = ids["customers"]
    assert f'href="/merge/customer/{low}/{high}"' in customers.text
    assert "Golden Radish Café" in customers.text
    assert "Same name, same postal code" in customers.text
    assert "Their contacts share an email address" in customers.text
    partial = client.get(PAGE + "?kind=customer&page=1", headers=HTMX)
    assert partial.status_code == 200 and "<html" not in partial.text
    assert "Golden Radish Café" in partial.text and "data-autofocus" in partial.text
    assert "HX-Request" in partial.headers.get("Vary", "")


def test_not_duplicates_removes_the_pair_for_good(app, client, auth):
    auth.sign_in("manager")
    ids = two_pairs(app)
    low, high = ids["people"]
    url = f"/contacts/duplicates/contact/{low}/{high}/dismiss"
    response = auth.post(url, {"page": "1", "position": "0"}, page=PAGE, htmx=True)
    assert response.status_code == 200 and "<html" not in response.text
    assert json.loads(response.headers["HX-Trigger"])["toast"]["message"].startswith("Noted")
    assert f"/merge/contact/{low}/{high}" not in response.text
    assert "No possible duplicate people" in response.text
    again = auth.post(url, {"page": "1"}, page=PAGE, htmx=True)  # idempotent
    assert again.status_code == 200 and "Already" in again.headers["HX-Trigger"]
    assert auth.post(f"/contacts/duplicates/contact/{high}/{high + 99}/dismiss",
                     page=PAGE, htmx=True).status_code == 404
    with app.app_context():
        assert db.session.get(DuplicateDismissal, ("contact", low, high)).dismissed_by_id
        events = db.session.execute(select(AuditEvent.action, AuditEvent.entity_id,
                                           AuditEvent.fields)
                                    .where(AuditEvent.action == "not_duplicate")).all()
        assert sorted(events) == [("not_duplicate", low, []), ("not_duplicate", high, [])]
        run_scan()  # a new scan does not bring it back; the customers' pair stays
        assert stored("contact") == {} and list(stored("customer")) == [ids["customers"]]
    # Without JavaScript: a redirect back to the list.
    low, high = ids["customers"]
    plain = auth.post(f"/contacts/duplicates/customer/{low}/{high}/dismiss", {"page": "1"},
                      page=PAGE + "?kind=customer")
    assert plain.status_code == 303 and plain.headers["Location"].endswith(
        "/contacts/duplicates?kind=customer&page=1")


@pytest.mark.parametrize("role", ["sales", "viewer", "finance", "delivery"])
def test_only_admins_and_managers_see_and_act(app, client, auth, role):
    ids = two_pairs(app)
    low, high = ids["people"]
    auth.sign_in(role)
    token = auth.token("/customers/")
    headers = {"X-CSRFToken": token}
    assert client.get(PAGE).status_code == 403
    assert client.get(PAGE + "/scan", headers=HTMX).status_code == 403
    assert client.post(PAGE + "/scan", headers=headers).status_code == 403
    assert client.post(f"{PAGE}/contact/{low}/{high}/dismiss", headers=headers).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DuplicateDismissal)) == 0
        assert db.session.scalar(select(func.count()).select_from(JobRun)) == 0


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_scan_button_runs_the_scan_inline_and_reloads_the_list(app, client, auth):
    auth.sign_in("admin")
    with app.app_context():
        shop("Golden Radish Cafe", person("Maria", "Lopez", "maria@lopez.example"))
        shop("Golden Radish Café", person("Maria", "Lopez", "maria@lopez.example"))
    response = auth.post(PAGE + "/scan", page=PAGE, htmx=True)
    assert response.status_code == 200 and "<html" not in response.text
    trigger = json.loads(response.headers["HX-Trigger"])
    assert trigger["duplicates-scanned"] is True
    assert trigger["toast"]["message"] == (
        "Scan finished: 1 pair of people, 1 pair of customers.")
    assert "Last scan:" in response.text and "started by Admin Person" in response.text
    assert "every 1s" not in response.text
    page = client.get(PAGE)
    assert "It found 1 pair of people and 1 pair of customers." in page.text
    with app.app_context():
        run = db.session.scalars(select(JobRun)).one()
        assert run.params == {} and run.status == "finished"
        assert {p.run_id for p in db.session.scalars(select(DuplicatePair))} == {run.id}
    plain = auth.post(PAGE + "/scan", page=PAGE)  # without JavaScript
    assert plain.status_code == 303 and plain.headers["Location"].endswith(PAGE)


def test_after_a_scan_that_found_nothing_the_list_says_when_it_ran(app, client, auth):
    auth.sign_in("manager")
    with app.app_context():
        shop("Golden Radish Cafe", person("Maria", "Lopez", "maria@lopez.example"))
        shop("Blue Heron Bistro", person("Ana", "Garcia", "ana@heron.example"), postal="60622")
    before = client.get(PAGE).text
    assert "No possible duplicate people yet: no scan has run." in before
    scanned = auth.post(PAGE + "/scan", page=PAGE, htmx=True)
    assert json.loads(scanned.headers["HX-Trigger"])["duplicates-scanned"] is True
    with app.app_context():
        run = db.session.scalars(select(JobRun)).one()
        when = run.finished_at.astimezone(ZoneInfo(app.config["FARM_TIMEZONE"]))
    stamp = when.strftime("%b %-d, %Y %-I:%M %p")
    for kind, word in (("contact", "people"), ("customer", "customers")):
        # the reload the finished scan triggers, and the page itself
        reloaded = client.get(f"{PAGE}?kind={kind}&reload=1", headers=HTMX).text
        page = client.get(f"{PAGE}?kind={kind}").text
        for text in (reloaded, page):
            assert (f"No possible duplicate {word}: the last scan, {stamp}, found no pairs."
                    in text)
            assert "run a scan" not in text.lower() and "no scan has run" not in text


def test_when_every_pair_found_is_dealt_with_the_list_says_so(app, client, auth):
    auth.sign_in("manager")
    with app.app_context():
        a = shop("Golden Radish Cafe", person("Maria", "Lopez", "maria@lopez.example"))
        b = shop("Golden Radish Café", person("Maria", "Lopez", "maria@lopez.example"))
        people = key(contact_of(a), contact_of(b))
    auth.post(PAGE + "/scan", page=PAGE, htmx=True)
    response = auth.post(f"{PAGE}/contact/{people[0]}/{people[1]}/dismiss",
                         {"page": "1", "position": "0"}, page=PAGE, htmx=True)
    assert "No possible duplicate people left: the pairs the last scan found (" in response.text
    assert "have all been merged or marked as not duplicates." in response.text
    assert "run a scan" not in response.text.lower()


def test_a_failed_scan_says_so_and_keeps_the_pairs(app, client, auth, monkeypatch):
    auth.sign_in("manager")
    ids = two_pairs(app)

    def broken(*args, **kwargs):
        raise RuntimeError("boom with Maria Lopez")

    monkeypatch.setattr(duplicate_scan, "scan", broken)
    response = auth.post(PAGE + "/scan", page=PAGE, htmx=True)
    assert response.status_code == 200
    assert "The last scan failed" in response.text and "Maria" not in response.text
    assert json.loads(response.headers["HX-Trigger"])["toast"]["level"] == "error"
    with app.app_context():
        assert set(stored("contact")) == {ids["people"]}  # the previous pairs stay


def test_a_scan_whose_worker_died_does_not_block_the_next_one(app, client, auth):
    from datetime import timedelta

    from crm.jobs.services import STALE

    auth.sign_in("manager")
    long_ago = utcnow() - timedelta(minutes=10)
    with app.app_context():
        stuck = JobRun(name="duplicate_scan", params={}, owner_kind="system", status="running",
                       progress=40, started_at=long_ago, heartbeat_at=long_ago)
        db.session.add(stuck)
        db.session.commit()
        stuck_id = stuck.id
    assert STALE in client.get(PAGE).text  # the page says what happened to it
    started = auth.post(PAGE + "/scan", page=PAGE, htmx=True)  # runs inline: no Redis here
    assert started.status_code == 200
    with app.app_context():
        assert db.session.get(JobRun, stuck_id).status == "failed"
        assert db.session.scalars(select(JobRun.status).where(JobRun.id != stuck_id)).all() == [
            "finished"]


def test_a_running_scan_shows_its_progress_and_no_second_one_starts(app, client, auth):
    user_id = auth.sign_in("manager")
    with app.app_context():
        run = JobRun(name="duplicate_scan", params={}, owner_kind="system", status="running",
                     progress=40, message="Comparing people", started_at=utcnow())
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    page = client.get(PAGE)
    assert '<progress id="duplicate-scan-bar" max="100" value="40">' in page.text
    assert f'hx-get="/contacts/duplicates/scan?run={run_id}"' in page.text
    assert 'hx-trigger="every 1s"' in page.text and "Comparing people" in page.text
    assert "Scan for duplicates</button>" not in page.text
    poll = client.get(f"{PAGE}/scan?run={run_id}", headers=HTMX)
    assert poll.status_code == 200 and "40%" in poll.text and "<html" not in poll.text
    started = auth.post(PAGE + "/scan", page=PAGE, htmx=True)
    assert started.status_code == 200 and "every 1s" in started.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JobRun)) == 1
        run = db.session.get(JobRun, run_id)
        run.status, run.progress, run.finished_at = "finished", 100, utcnow()
        run.result = {"contacts": 3, "customers": 4, "seconds": 1.5}
        db.session.commit()
    done = client.get(f"{PAGE}/scan?run={run_id}", headers=HTMX)
    assert done.status_code == 286  # htmx stops polling
    assert "every 1s" not in done.text and "It found 3 pairs of people and 4 pairs" in done.text
    trigger = json.loads(done.headers["HX-Trigger"])
    assert trigger["duplicates-scanned"] is True
    assert "3 pairs of people" in trigger["toast"]["message"]
    assert client.get(f"{PAGE}/scan").status_code == 302  # a full page: the list
    assert user_id


def test_scan_runs_on_a_real_redis_worker(app, client, auth, real_queue):
    auth.sign_in("manager")
    with app.app_context():
        shop("Golden Radish Cafe")
        shop("Golden Radish Café")
    started = auth.post(PAGE + "/scan", page=PAGE, htmx=True)
    assert started.status_code == 200 and "queued" in started.text
    assert "HX-Trigger" not in started.headers
    with app.app_context():
        run = db.session.scalars(select(JobRun)).one()
        run_id = run.id
        rq_job = real_queue.queue().fetch_job(run.rq_job_id)
        assert rq_job.args == (run_id,)  # the run's id only
    assert real_queue.work()
    done = client.get(f"{PAGE}/scan?run={run_id}", headers=HTMX)
    assert done.status_code == 286
    assert "1 pair of customers" in json.loads(done.headers["HX-Trigger"])["toast"]["message"]


def queries(app, client, url, headers=None):
    with count_queries(app) as statements:
        response = client.get(url, headers=headers or {})
        assert response.status_code == 200
    return len(statements), response.text


def test_query_count_does_not_grow_with_the_pairs(app, client, auth):
    auth.sign_in("manager")
    with app.app_context():
        for n in range(2):
            shop(f"Cafe {chr(65 + n)}", person("Quinn", "Haas", "quinn@haas.example",
                                               "+13125550142"))
        run_scan()
    few = {kind: queries(app, client, f"{PAGE}?kind={kind}") for kind in ("contact", "customer")}
    few_partial = queries(app, client, f"{PAGE}?kind=contact", HTMX)
    with app.app_context():
        for n in range(14):  # 14 people sharing an email with 3 emails, phones, customers...
            shop(f"Bistro {chr(65 + n)}", person("Mei", "Sato", "mei@sato.example",
                                                 f"+1773555{n:04d}"),
                 person("Omar", "Walsh", f"omar{n}@walsh.example"), postal="60201",
                 city="Evanston")
        run_scan()
        assert db.session.scalar(select(func.count()).select_from(DuplicatePair)) > 25
    many = {kind: queries(app, client, f"{PAGE}?kind={kind}") for kind in ("contact", "customer")}
    many_partial = queries(app, client, f"{PAGE}?kind=contact", HTMX)
    assert many["contact"][1].count('class="dup-pair card"') == duplicates.PAGE_SIZE
    assert few["contact"][1].count('class="dup-pair card"') == 1
    assert {k: v[0] for k, v in many.items()} == {k: v[0] for k, v in few.items()}
    assert many_partial[0] == few_partial[0]


# -- the command line ------------------------------------------------------------------------

def test_command_scans_and_prints_one_line(app, runner):
    with app.app_context():
        shop("Golden Radish Cafe", person("Maria", "Lopez", "maria@lopez.example"))
        shop("Golden Radish Café", person("Maria", "Lopez", "maria@lopez.example"))
    result = runner.invoke(args=["contacts", "scan-duplicates"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(r"contacts: 1 pairs, customers: 1 pairs, \d+(\.\d)? s", lines[-1])
    assert "maria" not in result.output.lower()
    with app.app_context():
        run = db.session.scalars(select(JobRun)).one()
        assert run.status == "finished" and run.owner_id is None
        assert run.message == "contacts: 1 pairs, customers: 1 pairs"
