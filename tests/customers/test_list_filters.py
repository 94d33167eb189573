"""The customer list takes filters from features (crm.features.ListFilter): one <select> each,
applied as `Customer.id IN (select)`, kept in the list's links and its CSV export; a value
that cannot be used says so on the list, never a 500. Segments declares "Tag"."""
import csv
import io

import pytest

from crm.common import SYSTEM, Actor
from crm.extensions import db
from crm.features import ListFilter, registry
from crm.security.encryption import seal
from crm.segments.tags import add_tag, find_or_create_tag
from tests import factories


@pytest.fixture
def tagged(app):
    """Four grocers and a caterer; two grocers and the caterer tagged "Wholesale"."""
    with app.app_context():
        grocers = [factories.customer(f"Grocer {n}", kind="grocer").id for n in range(4)]
        caterer = factories.customer("Caterer Wholesale", kind="caterer").id
        tag = find_or_create_tag("Wholesale", actor=SYSTEM)
        add_tag([grocers[1], grocers[3], caterer], tag, actor=SYSTEM)
        db.session.commit()
        return {"grocers": grocers, "caterer": caterer, "tag": tag.id}


def shown(html, names):
    return [name for name in names if f">{name}</a>" in html]


ALL = ["Grocer 0", "Grocer 1", "Grocer 2", "Grocer 3", "Caterer Wholesale"]


def test_the_list_has_a_tag_filter_and_applies_it(client, auth, tagged):
    auth.sign_in("viewer")
    page = client.get("/customers/").text
    assert '<label for="tag">Tag</label>' in page
    assert f'<option value="{tagged["tag"]}">Wholesale</option>' in page
    assert shown(client.get(f"/customers/?tag={tagged['tag']}").text, ALL) == [
        "Grocer 1", "Grocer 3", "Caterer Wholesale"]
    both = client.get(f"/customers/?tag={tagged['tag']}&kind=grocer").text
    assert shown(both, ALL) == ["Grocer 1", "Grocer 3"]
    assert f'<option value="{tagged["tag"]}" selected>Wholesale</option>' in both


def test_the_filter_stays_in_pagination_and_sort_links_and_the_search_post(app, client, auth,
                                                                           tagged):
    auth.sign_in("viewer")
    app.config["CUSTOMERS_PER_PAGE"] = 2
    try:
        page1 = client.get(f"/customers/?tag={tagged['tag']}").text
        assert shown(page1, ALL) == ["Grocer 1", "Grocer 3"]
        assert f'href="/customers/?tag={tagged["tag"]}&amp;page=2"' in page1
        assert f'/customers/?sort=-number&amp;tag={tagged["tag"]}' in page1
        page2 = client.get(f"/customers/?tag={tagged['tag']}&page=2").text
        assert shown(page2, ALL) == ["Caterer Wholesale"]
        searched = auth.post("/customers/search", {"q": "grocer", "tag": str(tagged["tag"])},
                             page="/customers/", htmx=True)
        assert shown(searched.text, ALL) == ["Grocer 1", "Grocer 3"]
        assert f"tag={tagged['tag']}" in searched.headers["HX-Push-Url"]
    finally:
        app.config["CUSTOMERS_PER_PAGE"] = 25


def test_a_search_by_words_finds_tagged_customers_past_the_first_matches(app, client, auth):
    """The filter applies inside every token walk, not after the first page of matches."""
    auth.sign_in("viewer")
    app.config["CUSTOMERS_PER_PAGE"] = 2
    try:
        with app.app_context():
            ids = [factories.customer(f"Fern Cafe {n}", commit=False).id for n in range(6)]
            add_tag([ids[5]], find_or_create_tag("Late", actor=SYSTEM), actor=SYSTEM)
            db.session.commit()
            tag = find_or_create_tag("Late", actor=SYSTEM).id
        with app.test_request_context():
            sealed = seal("fern", actor=Actor("staff", auth.user_id))
        listed = client.get(f"/customers/?s={sealed}&tag={tag}").text
        assert ">Fern Cafe 5</a>" in listed and ">Fern Cafe 0</a>" not in listed
    finally:
        app.config["CUSTOMERS_PER_PAGE"] = 25


@pytest.mark.parametrize("value, message", [
    ("999999", "That tag no longer exists (it was deleted). Choose another tag."),
    ("abc", "That tag is not one of the choices; choose another."),
])
def test_an_unknown_or_deleted_tag_says_so_on_the_list(client, auth, tagged, value, message):
    auth.sign_in("viewer")
    response = client.get(f"/customers/?tag={value}")
    assert response.status_code == 200
    assert message in response.text and shown(response.text, ALL) == []
    fragment = client.get(f"/customers/?tag={value}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and message in fragment.text


def test_the_export_honours_the_tag_filter(app, client, auth, tagged):
    auth.sign_in("manager")
    page = client.get(f"/customers/?tag={tagged['tag']}&kind=grocer").text
    assert f'/contacts/export.csv?kind=grocer&amp;tag={tagged["tag"]}' in page
    exported = client.get(f"/contacts/export.csv?kind=grocer&tag={tagged['tag']}")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert sorted({row[0] for row in rows[1:]}) == ["Grocer 1", "Grocer 3"]
    posted = auth.post("/contacts/export", {"tag": str(tagged["tag"]), "q": ""},
                       page="/customers/")
    assert posted.status_code == 303 and f"tag={tagged['tag']}" in posted.headers["Location"]
    with app.app_context():
        from sqlalchemy import select

        from crm.audit.models import AuditEvent

        fields = db.session.scalars(select(AuditEvent.fields).where(
            AuditEvent.action == "export")).all()
        assert f"filter:tag={tagged['tag']}" in fields[-1]


def test_the_export_of_a_deleted_tag_refuses_rather_than_exports_everyone(client, auth,
                                                                            tagged):
    auth.sign_in("manager")
    response = client.get("/contacts/export.csv?tag=999999")
    assert response.status_code == 303
    assert "That tag no longer exists" in client.get(response.headers["Location"]).text


def test_a_second_filter_is_one_more_declaration(app, app_ctx, tagged):
    """What the segment filter will do: declare, and the list applies both."""
    from crm.customers.services import list_filters, search_customers

    declared = ListFilter("odd", "Odd", "customers.view", "tests.customers.test_list_filters:odd",
                          "tests.customers.test_list_filters:odd_choices")
    registry().list_filters.append(declared)
    try:
        filters = list_filters({"tag": str(tagged["tag"]), "odd": "1"})
        assert filters["feature_filters"] == {"tag": str(tagged["tag"]), "odd": "1"}
        rows, _ = search_customers(**filters)
        odd = {i for i in [*tagged["grocers"], tagged["caterer"]] if i % 2}
        assert {c.id for c in rows} == odd & {tagged["grocers"][1], tagged["grocers"][3],
                                              tagged["caterer"]}
    finally:
        registry().list_filters.remove(declared)


def odd(value, user):
    from crm.customers.models import Customer

    return Customer.id % 2 == value % 2


def odd_choices(user):
    return [(1, "Odd numbers")]


def test_the_list_filtered_by_a_saved_segment_and_a_segment_gone_says_so(app, client, auth,
                                                                        tagged):
    """Segments declares "Segment" through the same hook: the list shows the segment's
    customers as its rules say now; a segment deleted since gives a message, not a 500; a
    private segment of someone else's is not offered nor applied."""
    import json

    from crm.segments.models import Segment

    auth.sign_in("sales")
    rules = {"match": "all", "rules": [
        {"field": "kind", "op": "in", "value": ["grocer"]},
        {"field": "tags", "op": "any", "value": [tagged["tag"]]}]}
    with app.app_context():
        made = Segment(name="Wholesale grocers", owner_id=auth.user_id, shared=False,
                       rules=json.dumps(rules))
        db.session.add(made)
        db.session.commit()
        segment_id = made.id
    page = client.get("/customers/").text
    assert '<label for="segment">Segment</label>' in page
    assert f'<option value="{segment_id}">Wholesale grocers</option>' in page
    listed = client.get(f"/customers/?segment={segment_id}").text
    assert shown(listed, ALL) == ["Grocer 1", "Grocer 3"]
    with app.app_context():
        db.session.delete(db.session.get(Segment, segment_id))
        db.session.commit()
    gone = client.get(f"/customers/?segment={segment_id}")
    assert gone.status_code == 200 and "That segment no longer exists" in gone.text
    assert shown(gone.text, ALL) == []
