"""The segment pages as staff use them, CSRF on: the list, the builder with and without htmx,
the live count, saving with errors at the rule, permissions and conflicts."""
import json
import re

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.segments.models import Segment
from tests import factories


def rule_form(*rules, match="all", **extra):
    """The builder's fields for a flat list of rules (field, op, value[, days])."""
    data = {"1.kind": "group", "1.match": match, **extra}
    for i, (field, op, value, *days) in enumerate(rules, 1):
        data.update({f"1.{i}.kind": "rule", f"1.{i}.field": field, f"1.{i}.op": op,
                     f"1.{i}.value": value})
        if days:
            data[f"1.{i}.days"] = days[0]
    return data


@pytest.fixture
def farm(app):
    with app.app_context():
        ids = [factories.customer("Blue Heron", kind="restaurant").id,
               factories.customer("Corner Grocer", kind="grocer").id,
               factories.customer("Green Table", kind="restaurant").id]
    return ids


def saved(app, owner_id, tree=None, shared=False, name="Restaurants"):
    with app.app_context():
        segment = Segment(name=name, owner_id=owner_id, shared=shared, rules=json.dumps(
            tree or {"match": "all", "rules": [
                {"field": "kind", "op": "in", "value": ["restaurant"]}]}))
        db.session.add(segment)
        db.session.commit()
        return segment.id


def segments_in(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Segment))


def test_segments_is_in_the_navigation_for_those_who_use_them(client, auth):
    auth.sign_in("sales")
    assert '>Segments<' in client.get("/customers/").text


def test_delivery_and_viewers_may_not_use_segments(client, auth):
    auth.sign_in("delivery")
    assert client.get("/segments").status_code == 403
    assert '>Segments<' not in client.get("/customers/").text


def test_the_list_shows_visible_segments_with_their_counts(app, client, auth, farm):
    me = auth.sign_in("sales")
    other = auth.make_user("sales", "other@farm.test")
    saved(app, me, name="My restaurants")
    saved(app, other, shared=True, name="Team grocers", tree={"match": "all", "rules": [
        {"field": "kind", "op": "in", "value": ["grocer"]}]})
    saved(app, other, name="Their secret")
    page = client.get("/segments").text
    assert "My restaurants" in page and "Team grocers" in page and "Their secret" not in page
    counts = re.findall(r'<td class="num">([^<]+)</td>', page)
    assert counts == ["2", "1"]


def test_picking_a_field_swaps_in_its_operators_and_value_input(client, auth, app, farm):
    auth.sign_in("sales")
    data = {**rule_form(("kind", "in", "restaurant")), "key": "1.1", "changed": "field"}
    data["1.1.field"] = "last_order"
    answer = auth.post("/segments/rule", data, page="/segments/new", htmx=True)
    assert answer.status_code == 200 and "<html" not in answer.text
    assert 'value="within" selected' in answer.text and 'value="more_than"' in answer.text
    assert 'name="1.1.value"' in answer.text and "days" in answer.text
    data["1.1.field"] = "tags"
    answer = auth.post("/segments/rule", data, page="/segments/new", htmx=True)
    assert "has all of" in answer.text and "Nothing to choose from yet" in answer.text


@pytest.mark.parametrize("role, offered", [("sales", False), ("finance", True),
                                           ("manager", True)])
def test_money_fields_are_offered_only_to_roles_that_see_amounts(client, auth, role, offered):
    auth.sign_in(role)
    page = client.get("/segments/new").text
    assert ('value="balance"' in page) is offered and ('value="revenue"' in page) is offered


def test_the_live_count_and_the_first_customers_with_why(client, auth, farm):
    auth.sign_in("sales")
    answer = auth.post("/segments/preview", rule_form(("kind", "in", "restaurant")),
                       page="/segments/new", htmx=True)
    assert answer.status_code == 200 and "<html" not in answer.text
    assert "2 customers match" in answer.text
    assert 'hx-swap-oob="innerHTML"' in answer.text  # into the aria-live count
    assert "Blue Heron" in answer.text and "Green Table" in answer.text
    assert "Corner Grocer" not in answer.text and "kind is Restaurant" in answer.text
    answer = auth.post("/segments/preview", rule_form(("last_order", "within", "abc")),
                       page="/segments/new", htmx=True)
    assert "Rule 1 in group 1: &#39;abc&#39; is not a number of days." in answer.text


def test_the_page_has_a_polite_live_count(client, auth, farm):
    auth.sign_in("sales")
    page = client.get("/segments/new").text
    assert re.search(r'id="segment-count" role="status" aria-live="polite">3 customers match',
                     page)
    assert 'hx-trigger="change delay:400ms"' in page


def test_adding_and_removing_rules_and_groups_with_htmx(client, auth, farm):
    auth.sign_in("sales")
    data = rule_form(("kind", "in", "restaurant"), action="add-group:1")
    answer = auth.post("/segments/builder", data, page="/segments/new", htmx=True)
    assert answer.status_code == 200 and "<html" not in answer.text
    assert 'name="1.2.kind" value="group"' in answer.text
    assert 'name="1.2.1.kind" value="rule"' in answer.text
    assert re.search(r'id="rule-1-2-1-field"[^>]*autofocus', answer.text, re.S)
    assert "2 customers match" in answer.text  # the count comes along, out of band
    data = {**rule_form(("kind", "in", "restaurant"), ("status", "in", "active")),
            "action": "remove:1.1"}
    answer = auth.post("/segments/builder", data, page="/segments/new", htmx=True)
    assert 'name="1.2.kind"' not in answer.text and 'value="status" selected' in answer.text
    assert "3 customers match" in answer.text


def test_without_javascript_every_button_posts_the_page(client, auth, farm):
    auth.sign_in("sales")
    data = rule_form(("kind", "in", "grocer"), action="add-rule:1")
    answer = auth.post("/segments/new", data)
    assert answer.status_code == 200 and "<html" in answer.text
    assert 'name="1.2.kind" value="rule"' in answer.text and "1 customer matches" in answer.text
    data["action"] = "refresh"
    data["1.1.field"] = "last_order"  # changed field, old operator: its first operator
    answer = auth.post("/segments/new", data)
    assert 'value="within" selected' in answer.text


def test_saving_with_a_bad_rule_is_422_with_the_error_at_the_rule(app, client, auth, farm):
    auth.sign_in("sales")
    data = rule_form(("kind", "in", "restaurant"), ("last_order", "within", "abc"),
                     name="Quiet restaurants", action="save")
    answer = auth.post("/segments/new", data)
    assert answer.status_code == 422
    rule = answer.text[answer.text.index('id="rule-1-2"'):]
    rule = rule[:rule.index("</fieldset>")]
    assert "is not a number of days." in rule and 'value="abc"' in rule  # kept as typed
    assert 'aria-describedby="rule-1-2-error"' in answer.text
    assert 'value="Quiet restaurants"' in answer.text
    assert segments_in(app) == 0


def test_saving_and_opening_in_the_customer_list(app, client, auth, farm):
    auth.sign_in("sales")
    data = rule_form(("kind", "in", "restaurant"), name="Restaurants", shared="y",
                     action="save")
    answer = auth.post("/segments/new", data)
    assert answer.status_code == 303
    with app.app_context():
        segment = db.session.scalar(select(Segment))
        assert segment.shared and segment.name == "Restaurants"
    page = client.get(answer.headers["Location"]).text
    assert f'href="/customers/?segment={segment.id}"' in page
    assert "2 customers match" in page and "Segment “Restaurants” saved." in page


def test_someone_elses_private_segment_is_not_found(app, client, auth, farm):
    other = auth.make_user("sales", "other@farm.test")
    secret = saved(app, other)
    auth.sign_in("manager")
    assert client.get(f"/segments/{secret}").status_code == 404
    assert auth.post(f"/segments/{secret}/delete", {}, page="/segments").status_code == 404


def test_a_shared_segment_is_used_by_others_and_saved_only_as_a_copy(app, client, auth, farm):
    other = auth.make_user("sales", "other@farm.test")
    shared = saved(app, other, shared=True)
    auth.sign_in("sales")
    page = client.get(f"/segments/{shared}").text
    assert "2 customers match" in page and 'value="save"' not in page
    data = rule_form(("kind", "in", "grocer"), name="Mine", action="save", version="1")
    assert auth.post(f"/segments/{shared}", data, page=f"/segments/{shared}").status_code == 403
    data["action"] = "save-new"
    assert auth.post(f"/segments/{shared}", data, page=f"/segments/{shared}").status_code == 303
    assert segments_in(app) == 2


def test_a_stale_version_is_409_with_a_clear_message(app, client, auth, farm):
    me = auth.sign_in("sales")
    mine = saved(app, me)
    with app.app_context():
        db.session.get(Segment, mine).name = "Renamed elsewhere"
        db.session.commit()
    data = rule_form(("kind", "in", "grocer"), name="Mine", action="save", version="1")
    answer = auth.post(f"/segments/{mine}", data, page="/segments")
    assert answer.status_code == 409
    assert "Someone else saved this segment after you opened it" in answer.text
    assert 'value="Renamed elsewhere"' in answer.text


def test_the_owner_deletes_a_segment(app, client, auth, farm):
    me = auth.sign_in("sales")
    mine = saved(app, me)
    answer = auth.post(f"/segments/{mine}/delete", {"version": "1"}, page=f"/segments/{mine}")
    assert answer.status_code == 303 and segments_in(app) == 0


def test_a_saved_segment_naming_a_deleted_tag_says_so(app, client, auth, farm):
    me = auth.sign_in("sales")
    mine = saved(app, me, tree={"match": "all", "rules": [
        {"field": "tags", "op": "any", "value": [424242]}]})
    page = client.get(f"/segments/{mine}")
    assert page.status_code == 200
    assert "a tag chosen here no longer exists; choose again." in page.text
    assert "0 customers match" in page.text


@pytest.mark.parametrize("data", [
    {"1.kind": "group", "1.match": "maybe"},
    {"1.kind": "group", "1.1.kind": "rule", "1.1.field": "'; drop table customer; --"},
    {"1.kind": "group", "1.1.kind": "rule", "1.1.field": "kind", "1.1.op": "in",
     "1.1.value": "x" * 5000},
    {"1.kind": "group", "1.01.kind": "rule", "1.9999.kind": "group", "2.kind": "rule"},
    {"1.kind": "group", "1.1.kind": "rule", "1.1.field": "created", "1.1.op": "before",
     "1.1.value": "99999-01-01"},
    {"1.kind": "group", "1.1.kind": "rule", "1.1.field": "tags", "1.1.op": "any",
     "1.1.value": "99999999999999999999"},
    {"1.kind": "group", "1.1.kind": "rule", "1.1.field": "balance", "1.1.op": "gte",
     "1.1.value": "1e309"},
    {"action": "remove:1"}, {"action": "add-rule:1.7.3"}, {"action": "nonsense"},
])
def test_odd_forms_never_give_a_500(client, auth, data, farm):
    auth.sign_in("finance")
    for url in ("/segments/preview", "/segments/builder", "/segments/new"):
        answer = auth.post(url, {**data, "name": "X", "action": data.get("action", "save")},
                           page="/segments/new", htmx=url != "/segments/new")
        assert answer.status_code in (200, 303, 422), (url, answer.status_code)
        assert "Traceback" not in answer.text and "sqlite" not in answer.text.lower()
