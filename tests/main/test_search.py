"""The header search (issue 13, part 3): one box on every staff page finds customers, people,
phone numbers, customer and ticket numbers, grouped by kind, only what the role may see; the
text travels in the body or sealed, never readable in a URL; fixed queries however much data."""
import re
from datetime import timedelta

import pytest

from crm.common import SYSTEM, utcnow
from crm.communications.services import log_interaction
from crm.contacts.services import add_contact
from crm.extensions import db
from tests import factories
from tests.conftest import Auth
from tests.customers.test_list import count_queries

HTMX = {"HX-Request": "true"}


@pytest.fixture
def farm(app):
    """Blue Heron Bistro (CUST-…) with Marguerite O'Neil, its chef, on (312) 555-1814, and a
    ticket; a grocer with Rosa. {"bistro": id, "person": id, "ticket": id}."""
    with app.app_context():
        bistro = factories.customer("Blue Heron Bistro", contact=False)
        chef = add_contact(bistro, {"first_name": "Marguerite", "last_name": "O'Neil",
                                    "email": "chef@blueheron.example.com",
                                    "phone": "+13125551814"}, role="kitchen", actor=SYSTEM)
        factories.customer("Green Grocer Collective")
        opened = log_interaction(bistro, {
            "channel": "ticket", "direction": "inbound", "contact_id": chef.id,
            "subject": "Wilted pea shoots", "body": "Two trays arrived wilted.",
            "occurred_at": utcnow() - timedelta(days=1), "visibility": "internal"}, actor=SYSTEM)
        db.session.commit()
        return {"bistro": bistro.id, "person": chef.id, "ticket": opened.ticket.id}


def find(auth, q, **kwargs):
    return auth.post("/search", {"q": q}, page="/customers/", htmx=True, **kwargs)


def signed_in(app, role, email):
    """Another browser, signed in as another user."""
    other = Auth(app, app.test_client())
    other.sign_in(role, email=email)
    return other


def groups(html: str) -> list[str]:
    return re.findall(r'class="search-group-label" id="site-search-group-(\w+)"', html)


def options(html: str) -> list[str]:
    return re.findall(r'role="option" id="([^"]+)"', html)


def test_the_box_is_on_every_staff_page_and_posts_its_text(app, client, auth):
    auth.sign_in("delivery")
    for url in ("/customers/", "/contacts/", "/delivery/sheets"):
        page = client.get(url).text
        box = page[page.index('<form class="site-search"'):page.index("</form>",
                                                                      page.index("site-search"))]
        assert 'method="post" action="/search"' in box and 'hx-post="/search"' in box
        assert 'role="combobox"' in box and 'aria-controls="site-search-listbox"' in box
        assert 'aria-expanded="false"' in box and 'role="status"' in box
        assert 'name="csrf_token"' in box
    assert "site-search" not in client.get("/auth/sign-in").text


def test_results_are_grouped_by_kind_and_say_why(app, auth, farm):
    auth.sign_in("viewer")
    found = find(auth, "marg")
    assert found.status_code == 200 and "<html" not in found.text  # a fragment
    assert groups(found.text) == ["customers", "people"]
    assert 'role="listbox"' in found.text and 'data-summary="2 results"' in found.text
    assert options(found.text) == ["site-search-customers-1", "site-search-people-1",
                                   "site-search-all"]
    assert "Blue Heron Bistro" in found.text and "contact: Marguerite O…" in found.text
    assert f'href="/contacts/{farm["person"]}"' in found.text
    assert "Marguerite O&#39;Neil" in found.text  # the person's own entry: their name
    assert "Blue Heron Bistro (Kitchen)" in found.text  # and where they work
    assert "HX-Push-Url" not in found.headers  # nothing typed goes into the address bar


@pytest.mark.parametrize("typed", ["(312) 555-1814", "312.555.1814", "+1 312 555 1814"])
def test_a_phone_number_finds_the_person_and_their_customer(app, auth, farm, typed):
    auth.sign_in("sales")
    found = find(auth, typed)
    assert groups(found.text) == ["customers", "people"]
    assert "contact: Marguerite O… (phone)" in found.text and "phone matches" in found.text
    assert "555-1814" not in found.text.replace(typed, "")  # never the number beyond the typed


def test_customer_and_ticket_numbers(app, auth, farm):
    auth.sign_in("viewer")
    number = f"CUST-{farm['bistro']:05d}"
    found = find(auth, number.lower())
    assert groups(found.text) == ["customers"] and number in found.text
    ticket = f"T-{farm['ticket']:05d}"
    for typed in (ticket, ticket.lower(), f"t{farm['ticket']}", f"ticket {farm['ticket']}"):
        found = find(auth, typed)
        assert groups(found.text) == ["tickets"], typed
        assert f"{ticket} Wilted pea shoots" in found.text
        assert f'href="/tickets/{farm["ticket"]}"' in found.text
    assert groups(find(auth, "T-99999").text) == []


def test_each_role_finds_only_what_it_may_see(app, auth, farm):
    ticket = f"T-{farm['ticket']:05d}"
    auth.sign_in("delivery")  # no communications: no tickets
    assert groups(find(auth, ticket).text) == []
    assert "Wilted" not in find(auth, ticket).text
    assert groups(find(auth, "marg").text) == ["customers", "people"]
    finance = signed_in(app, "finance", "finance@farm.test")
    assert groups(find(finance, ticket).text) == ["tickets"]


def test_nothing_found_says_so_and_an_empty_box_answers_nothing(app, auth, farm):
    auth.sign_in("viewer")
    found = find(auth, "xavier")
    assert 'data-summary="Nothing found"' in found.text and "Nothing found for “xavier”" in found.text
    assert options(found.text) == []
    assert find(auth, "   ").text.strip() == ""


def test_without_javascript_the_results_page_opens_with_the_search_sealed(app, client, auth,
                                                                           farm):
    auth.sign_in("viewer")
    moved = auth.post("/search", {"q": "marguerite"}, page="/customers/")
    assert moved.status_code == 303
    location = moved.headers["Location"]
    assert location.startswith("/search?s=") and "marg" not in location.lower()
    page = client.get(location)
    assert "<html" in page.text and "Blue Heron Bistro" in page.text
    assert "Marguerite O&#39;Neil" in page.text and "2 results for “marguerite”" in page.text
    assert 'role="option"' not in page.text  # plain links on the page
    assert "Type in the box" in client.get("/search").text
    other = signed_in(app, "sales", "sales2@farm.test")  # another user: the seal does not open
    assert "Blue Heron" not in other.client.get(location).text


def test_more_than_fit_lead_to_the_full_lists_sealed(app, auth):
    auth.sign_in("viewer")
    with app.app_context():
        for n in range(7):
            factories.customer(f"Heron Kitchen {n}", commit=False)
        db.session.commit()
    found = find(auth, "heron kit")
    assert len(re.findall(r'id="site-search-customers-\d+"', found.text)) == 5
    more = re.search(r'id="site-search-customers-more" class="more" href="([^"]+)"', found.text)
    assert more and more.group(1).startswith("/customers/?s=")
    assert "heron" not in more.group(1).lower()
    assert "Heron Kitchen 6" in auth.client.get(more.group(1).replace("&amp;", "&")).text


def test_the_header_search_runs_the_same_queries_however_many_match(app, auth, farm):
    auth.sign_in("viewer")
    typed = ["marg", "(312) 555-1814", f"T-{farm['ticket']:05d}", "margueritx", "xavier", "blu"]

    def queries():
        counts = []
        for q in typed:
            token = auth.token()
            with count_queries(app) as seen:
                found = auth.client.post("/search", data={"q": q},
                                         headers={"X-CSRFToken": token, **HTMX})
                assert found.status_code == 200
            counts.append(len(seen))
        return counts

    with app.app_context():  # every kind of answer already has something to show
        customer = factories.customer("Blue Marguerite Cafe", commit=False)
        add_contact(customer, {"first_name": "Margo", "last_name": "Blue"}, role="ordering",
                    actor=SYSTEM)
        db.session.commit()
    small = queries()
    with app.app_context():
        for n in range(30):
            customer = factories.customer(f"Blue Marguerite Cafe {n}", commit=False)
            add_contact(customer, {"first_name": "Marguerite", "last_name": f"Blue{n}"},
                        role="ordering", actor=SYSTEM)
            add_contact(customer, {"first_name": "Margo", "last_name": "Haas"},
                        role="billing", actor=SYSTEM)
        db.session.commit()
    assert queries() == small
    assert max(small) <= 8, small
