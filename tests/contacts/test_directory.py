"""The Contacts menu item opens a directory of people (issue 13, part 3): every role that may
see contacts, paged, searchable like the customer list, each person with their customers and
roles; the managers' tools stay there."""
import re

import pytest
from flask import url_for

from crm.common import SYSTEM, Actor
from crm.contacts.services import add_contact, link_contact
from crm.extensions import db
from crm.security.encryption import seal
from crm.security.permissions import ROLES
from tests import factories
from tests.customers.test_list import count_queries


@pytest.fixture
def people(app):
    """Marguerite O'Neil, chef at Blue Heron Bistro and orders for Little Fern Kitchen, and
    the two customers' own primary contacts (Rosa Tester…)."""
    with app.app_context():
        bistro = factories.customer("Blue Heron Bistro")
        fern = factories.customer("Little Fern Kitchen")
        chef = add_contact(bistro, {"first_name": "Marguerite", "last_name": "O'Neil",
                                    "email": "chef@blueheron.example.com",
                                    "phone": "+13125551814"}, role="kitchen", actor=SYSTEM)
        link_contact(fern, chef, "ordering", actor=SYSTEM)
        link_contact(bistro, chef, "billing", actor=SYSTEM)
        db.session.commit()
        return {"chef": chef.id, "bistro": bistro.id, "fern": fern.id}


def directory_url(auth, q="", page=None):
    """The directory's URL searching for `q`, sealed for the user `auth` signed in."""
    with auth.app.test_request_context():
        sealed = seal(q, actor=Actor("staff", auth.user_id)) if q else None
        return url_for("contacts.index", s=sealed, page=page)


def rows(html: str) -> list[str]:
    return re.findall(r'<td><a href="/contacts/\d+">([^<]+)</a></td>', html)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "grower"])  # no people for it
def test_every_role_sees_the_directory_with_customers_and_roles(app, client, auth, people,
                                                                role):
    auth.sign_in(role)
    page = client.get("/contacts/")
    assert page.status_code == 200 and "<html" in page.text
    found = rows(page.text)  # oldest first: the customers' own contacts, then Marguerite
    assert len(found) == 3 and all(n.startswith("Rosa Tester") for n in found[:2])
    assert found[2] == "Marguerite O&#39;Neil"
    chef = page.text[page.text.index(f'href="/contacts/{people["chef"]}"'):]
    chef = chef[:chef.index("</tr>")]
    assert "chef@blueheron.example.com" in chef and "(312) 555-1814" in chef
    assert re.search(r"Blue Heron Bistro</a> <span class=\"hint\">Billing, Kitchen", chef)
    assert re.search(r"Little Fern Kitchen</a> <span class=\"hint\">Ordering", chef)
    tools = ("Import from a CSV file", "Possible duplicates")
    if role in ("admin", "manager"):
        assert all(tool in page.text for tool in tools)
    else:
        assert not any(tool in page.text for tool in tools)


@pytest.mark.parametrize("typed", ["marg", "o'neil", "MARGUERITE O", "(312) 555-1814",
                                   "312.555.1814", "chef@blueheron.example.com",
                                   "margueritx"])
def test_the_directory_finds_people_as_the_customer_search_does(app, client, auth, people,
                                                                 typed):
    auth.sign_in("viewer")
    found = auth.post("/contacts/search", {"q": typed}, page="/contacts/", htmx=True)
    assert found.status_code == 200 and "<html" not in found.text
    assert rows(found.text) == ["Marguerite O&#39;Neil"]
    pushed = found.headers["HX-Push-Url"]
    assert pushed.startswith("/contacts/?s=") and "marg" not in pushed.lower()
    assert "555" not in pushed and "chef" not in pushed
    assert rows(client.get(pushed).text) == ["Marguerite O&#39;Neil"]  # reload: the same
    if typed == "margueritx":
        assert "close matches" in found.text


def test_the_directory_without_javascript_and_when_nobody_matches(app, client, auth, people):
    auth.sign_in("delivery")
    moved = auth.post("/contacts/search", {"q": "marguerite"}, page="/contacts/")
    assert moved.status_code == 303 and "marg" not in moved.headers["Location"].lower()
    assert rows(client.get(moved.headers["Location"]).text) == ["Marguerite O&#39;Neil"]
    nobody = auth.post("/contacts/search", {"q": "xavier"}, page="/contacts/", htmx=True)
    assert "Nobody matches “xavier”." in nobody.text and rows(nobody.text) == []
    short = auth.post("/contacts/search", {"q": "m"}, page="/contacts/", htmx=True)
    assert "Type at least 2 letters" in short.text


def test_the_directory_is_paged(app, client, auth, people):
    auth.sign_in("sales")
    app.config["PEOPLE_PER_PAGE"] = 2
    try:
        first = client.get("/contacts/")
        assert len(rows(first.text)) == 2 and 'rel="next"' in first.text
        second = client.get("/contacts/?page=2", headers={"HX-Request": "true"})
        assert "<html" not in second.text
        assert rows(second.text) == ["Marguerite O&#39;Neil"] and 'rel="next"' not in second.text
        with app.app_context():
            for n in range(3):
                add_contact(factories.customer(f"Marg Place {n}", contact=False),
                            {"first_name": "Margaret", "last_name": f"Lee{n}"},
                            role="primary", actor=SYSTEM)
            db.session.commit()
        searched = client.get(directory_url(auth, "marg"))
        assert rows(searched.text) == ["Marguerite O&#39;Neil", "Margaret Lee0"]
        next_page = re.search(r'href="([^"]+)" hx-get="[^"]+" hx-target="#people-results" '
                              r'hx-push-url="true" rel="next"', searched.text).group(1)
        assert "marg" not in next_page.lower()
        assert rows(client.get(next_page.replace("&amp;", "&")).text) == ["Margaret Lee1",
                                                                         "Margaret Lee2"]
    finally:
        app.config["PEOPLE_PER_PAGE"] = 25


def test_the_directory_runs_the_same_queries_however_many_people(app, client, auth, people):
    auth.sign_in("viewer")
    urls = ["/contacts/", directory_url(auth, "marg"), directory_url(auth, "(312) 555-1814"),
            directory_url(auth, "margueritx"), "/contacts/?page=2"]

    def queries():
        counts = []
        for url in urls:
            with count_queries(app) as seen:
                assert client.get(url).status_code == 200
            counts.append(len(seen))
        return counts

    app.config["PEOPLE_PER_PAGE"] = 1  # a second page from the start
    try:
        small = queries()
        with app.app_context():
            for n in range(30):
                customer = factories.customer(f"Marg Place {n}", commit=False)
                add_contact(customer, {"first_name": "Margaret", "last_name": f"Lee{n}",
                                       "email": f"m{n}@place.example.com"},
                            role="ordering", actor=SYSTEM)
            db.session.commit()
        assert queries() == small
        assert max(small) <= 7, small
    finally:
        app.config["PEOPLE_PER_PAGE"] = 25


def test_a_directory_search_announces_its_summary_not_the_table(client, auth):
    auth.sign_in("viewer")
    page = client.get("/contacts/").text
    assert 'id="people-results" aria-live' not in page and 'hx-swap-oob="innerHTML:#announce"' not in page
    found = auth.post("/contacts/search", {"q": "zzqx"}, page="/contacts/", htmx=True).text
    assert '<div hx-swap-oob="innerHTML:#announce">Nobody matches' in found
