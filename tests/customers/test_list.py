from contextlib import contextmanager

from sqlalchemy import event

from crm.common import Actor
from crm.extensions import db
from crm.security.encryption import seal
from tests import factories


def test_list_shows_customers_and_search_finds_by_word_prefixes(app, client, auth):
    auth.sign_in("viewer")
    with app.app_context():
        factories.customer("Blue Heron Bistro")
        factories.customer("Golden Radish Cafe")
    page = client.get("/customers/")
    assert page.status_code == 200
    assert "<html" in page.text and "Blue Heron Bistro" in page.text and "Golden Radish Cafe" in page.text

    found = auth.post("/customers/search", {"q": "blu her", "kind": "", "status": ""},
                      page="/customers/", htmx=True)
    assert found.status_code == 200
    assert "<html" not in found.text  # an htmx request gets the results fragment
    assert "Blue Heron Bistro" in found.text and "Golden Radish Cafe" not in found.text
    assert "HX-Request" in found.headers["Vary"]

    pushed = found.headers["HX-Push-Url"]  # the address bar follows the search ...
    assert pushed.startswith("/customers/?s=") and "blu" not in pushed.lower()  # ... sealed
    reload = client.get(pushed)
    assert "<html" in reload.text and 'value="blu her"' in reload.text
    assert "Golden Radish Cafe" not in reload.text
    restored = client.get(pushed, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restored.text  # history restore needs the whole page
    partial = client.get(pushed, headers={"HX-Request": "true"})  # pager and sort links
    assert "<html" not in partial.text and "Blue Heron Bistro" in partial.text


def test_search_without_javascript_redirects_to_a_sealed_url(app, client, auth):
    auth.sign_in("viewer")
    with app.app_context():
        factories.customer("Maria Lopez", kind="csa_member")
    response = auth.post("/customers/search", {"q": "maria", "kind": "csa_member"},
                         page="/customers/")
    assert response.status_code == 303
    assert "maria" not in response.headers["Location"].lower()
    assert "kind=csa_member" in response.headers["Location"]
    assert "Maria Lopez" in client.get(response.headers["Location"]).text
    tampered = client.get("/customers/?s=bm90LWEtdG9rZW4")  # not ours: an empty search
    assert tampered.status_code == 200 and "Maria Lopez" in tampered.text


def search_url(auth, q, **params):
    """The list's URL searching for `q`, sealed for the user `auth` signed in."""
    from crm.customers.views import list_url

    with auth.app.test_request_context():
        filters = {"kind": "", "status": "", "archived": False, "sort": "number", **params}
        return list_url(filters, q, sealed=seal(q, actor=Actor("staff", auth.user_id)))


def test_filters_sorting_and_pagination(app, client, auth):
    auth.sign_in("viewer")
    app.config["CUSTOMERS_PER_PAGE"] = 3
    try:
        with app.app_context():
            for n in range(4):
                factories.customer(f"Grocer {n}", kind="grocer", commit=False)
            factories.customer("Only Caterer", kind="caterer", status="lead")
        page1 = client.get("/customers/?kind=grocer")
        assert [n in page1.text for n in ("Grocer 0", "Grocer 2", "Grocer 3")] == [True, True, False]
        assert "Only Caterer" not in page1.text and 'rel="next"' in page1.text
        page2 = client.get("/customers/?kind=grocer&page=2")
        assert "Grocer 3" in page2.text and 'rel="next"' not in page2.text
        newest_first = client.get("/customers/?kind=grocer&sort=-number")
        assert "Grocer 3" in newest_first.text and "Grocer 0" not in newest_first.text
        leads = client.get("/customers/?status=lead")
        assert "Only Caterer" in leads.text and "Grocer 0" not in leads.text
        one_letter = client.get(search_url(auth, "g"))
        assert "Type at least 2 letters" in one_letter.text and "Grocer 0" in one_letter.text
        nothing = client.get(search_url(auth, "zzzz"))
        assert "No customers match “zzzz”." in nothing.text
        junk = client.get("/customers/?kind=spaceship&sort=drop+table&page=-4")
        assert junk.status_code == 200 and "Grocer 0" in junk.text
    finally:
        app.config["CUSTOMERS_PER_PAGE"] = 25


@contextmanager
def count_queries(app):
    queries = []
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, *args):
        queries.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield queries
    finally:
        event.remove(engine, "before_cursor_execute", before)


def queries_for(app, client, url):
    with count_queries(app) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_query_counts_do_not_grow_with_the_data(app, client, auth):
    auth.sign_in("viewer")
    with app.app_context():
        first = factories.customer("Query Counter").id
        factories.customer("Other One")
    urls = ["/customers/", search_url(auth, "quer cou"), f"/customers/{first}",
            f"/customers/{first}/contacts"]
    small = [queries_for(app, client, url) for url in urls]

    with app.app_context():
        from crm.contacts.models import Contact, ContactEmail, CustomerContact
        from crm.customers.models import Customer

        for n in range(60):
            factories.customer(f"Query Filler {n}", commit=False)
        customer = db.session.get(Customer, first)
        for n in range(8):  # more contacts (each with an email) on the detail page
            person = Contact(first_name=f"Extra{n}")
            person.emails.append(ContactEmail(email=f"x{n}@ex.example.com", email_bidx=f"{n}"))
            db.session.add(CustomerContact(customer=customer, contact=person, role="kitchen"))
        db.session.commit()
    large = [queries_for(app, client, url) for url in urls]
    assert large == small
    # the Overview is the most: the customer (4) and its cards — who to call (3), the latest
    # communications (3), the next delivery (2, up to 4 with a plan and items)
    assert max(small) <= 12
