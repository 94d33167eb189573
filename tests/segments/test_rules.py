"""The rule engine: each rule type with customers that match and customers that do not, nested
groups, the same field twice, every bad input, one SQL statement, and why each one matched."""
from contextlib import contextmanager
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import event, select

from crm.common import SYSTEM, farm_today, farm_zone
from crm.communications.services import log_interaction
from crm.credit import services as credit
from crm.customers.models import Customer
from crm.extensions import db
from crm.orders.models import Order, OrderLine
from crm.preferences.models import ProductPreference, StandingItem
from crm.segments import rules
from crm.segments.models import CustomerCategory
from crm.segments.tags import add_tag, find_or_create_tag
from tests import factories


def matched(tree, **kw):
    return set(db.session.scalars(rules.customer_ids(tree, **kw)))


def one(field, op, value=None, **extra):
    rule = {"field": field, "op": op, **extra}
    if value is not None:
        rule["value"] = value
    return {"match": "all", "rules": [rule]}


def days_ago(n):
    return farm_today() - timedelta(days=n)


def order(customer, n_days_ago, status="delivered", product=None):
    placed = Order(customer_id=customer.id, delivery_date=days_ago(n_days_ago), status=status,
                   created_by_kind="system")
    if product is not None:
        placed.lines.append(OrderLine(product_id=product.id, size="2 oz", quantity=1,
                                      unit_price=500))
    db.session.add(placed)
    db.session.flush()
    return placed


def interaction(customer, n_days_ago, channel="call"):
    at = datetime.combine(days_ago(n_days_ago), time(12), farm_zone()).astimezone(timezone.utc)
    return log_interaction(customer, {"channel": channel, "direction": "outbound",
                                      "subject": "Checking in", "occurred_at": at},
                           actor=SYSTEM)


@contextmanager
def statements(app):
    seen = []

    def before(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


@pytest.fixture
def three(app_ctx):
    """A restaurant, a grocer and a wholesale buyer (plus an archived restaurant)."""
    a = factories.customer("Blue Heron", kind="restaurant")
    b = factories.customer("Corner Grocer", kind="grocer", status="paused")
    c = factories.customer("Big Buyer", kind="wholesale", pricing_tier="wholesale")
    gone = factories.customer("Old Diner", kind="restaurant")
    gone.archived_at = datetime.now(timezone.utc)
    db.session.commit()
    return a, b, c


# -- each rule on its own --------------------------------------------------------------------

def test_kind_status_and_pricing_tier(three):
    a, b, c = three
    assert matched(one("kind", "in", ["restaurant"])) == {a.id}  # not the archived one
    assert matched(one("kind", "not_in", ["restaurant", "grocer"])) == {c.id}
    assert matched(one("status", "in", ["paused"])) == {b.id}
    assert matched(one("pricing_tier", "in", ["wholesale"])) == {c.id}


def test_account_owner(three, auth):
    a, b, c = three
    sam = auth.make_user("sales", "sam@farm.test")
    a.owner_id = sam
    db.session.commit()
    assert matched(one("owner", "in", [str(sam)])) == {a.id}
    assert matched(one("owner", "not_in", [sam])) == {b.id, c.id}
    assert matched(one("owner", "none")) == {b.id, c.id}


def test_tags_any_all_and_none(three):
    a, b, c = three
    wholesale = find_or_create_tag("Wholesale", actor=SYSTEM)
    paused = find_or_create_tag("Paused", actor=SYSTEM)
    add_tag([a.id, c.id], wholesale, actor=SYSTEM)
    add_tag([c.id], paused, actor=SYSTEM)
    db.session.commit()
    assert matched(one("tags", "any", [wholesale.id, paused.id])) == {a.id, c.id}
    assert matched(one("tags", "all", [wholesale.id, paused.id])) == {c.id}
    assert matched(one("tags", "none", [wholesale.id])) == {b.id}


def test_the_same_field_twice_has_wholesale_but_not_paused(three):
    a, b, c = three
    wholesale = find_or_create_tag("Wholesale", actor=SYSTEM)
    paused = find_or_create_tag("Paused", actor=SYSTEM)
    add_tag([a.id, c.id], wholesale, actor=SYSTEM)
    add_tag([c.id], paused, actor=SYSTEM)
    db.session.commit()
    tree = {"match": "all", "rules": [
        {"field": "tags", "op": "any", "value": [wholesale.id]},
        {"field": "tags", "op": "none", "value": [paused.id]}]}
    assert matched(tree) == {a.id}
    assert rules.explain(tree, [a.id]) == {a.id: ["has tag Wholesale", "has none of tag Paused"]}


def test_created_before_after_and_within(three):
    a, b, c = three
    a.created_at = datetime.combine(days_ago(400), time(12), farm_zone())
    b.created_at = datetime.combine(days_ago(40), time(12), farm_zone())
    db.session.commit()
    cut = days_ago(100).isoformat()
    assert matched(one("created", "before", cut)) == {a.id}
    assert matched(one("created", "after", cut)) == {b.id, c.id}
    assert matched(one("created", "within", "7")) == {c.id}
    assert rules.explain(one("created", "before", cut), [a.id])[a.id] == [
        f"created on {days_ago(400).isoformat()}"]


def test_city_and_postal_code_of_any_address(three):
    a, b, c = three
    b.addresses[0].city, b.addresses[0].postal_code = "Evanston", "60201"
    db.session.commit()
    assert matched(one("city", "is", "  evanston ")) == {b.id}
    assert matched(one("city", "is_not", "Evanston")) == {a.id, c.id}
    assert matched(one("postal_code", "is", "60201")) == {b.id}
    assert matched(one("postal_code", "starts", "606")) == {a.id, c.id}
    assert matched(one("postal_code", "starts", "%")) == set()  # a LIKE wildcard is a character


def test_route_and_delivery_weekday(three):
    a, b, c = three
    factories.delivery_plan(a, "North", ("Tue", "Fri"))
    factories.delivery_plan(b, "South", ("Mon",))
    from crm.catalogue.models import Route
    north = db.session.scalar(select(Route).where(Route.name == "North"))
    assert matched(one("route", "in", [north.id])) == {a.id}
    assert matched(one("route", "not_in", [north.id])) == {b.id, c.id}
    assert matched(one("route", "none")) == {c.id}
    assert matched(one("weekday", "any", ["Fri", "Sat"])) == {a.id}
    assert matched(one("weekday", "none", ["Mon"])) == {a.id, c.id}
    assert rules.explain(one("weekday", "any", ["Tue", "Fri"]), [a.id])[a.id] == [
        "delivers on Tue or Fri"]


def test_products_liked_disliked_and_standing(three):
    a, b, c = three
    products, packaging = factories.catalogue()
    pea, radish = products["Pea shoots"], products["Radish"]
    db.session.add_all([
        ProductPreference(customer_id=a.id, product_id=pea.id, kind="like"),
        ProductPreference(customer_id=b.id, product_id=pea.id, kind="dislike"),
        StandingItem(customer_id=c.id, product_id=radish.id, size="2 oz", quantity=2,
                     packaging_id=next(iter(packaging.values())).id)])
    db.session.commit()
    assert matched(one("liked", "any", [pea.id])) == {a.id}
    assert matched(one("disliked", "any", [pea.id])) == {b.id}
    assert matched(one("liked", "none", [pea.id])) == {b.id, c.id}
    assert matched(one("standing", "any", [radish.id, pea.id])) == {c.id}
    assert rules.explain(one("liked", "any", [pea.id]), [a.id])[a.id] == ["likes Pea shoots"]


def test_last_order_days_ago(three):
    a, b, c = three
    order(a, 10)
    order(b, 45)
    order(c, 3, status="cancelled")  # no order
    order(c, 2, status="draft")
    db.session.commit()
    assert matched(one("last_order", "within", "30")) == {a.id}
    assert matched(one("last_order", "more_than", "30")) == {b.id, c.id}
    assert matched(one("last_order", "never")) == {c.id}
    assert rules.explain(one("last_order", "more_than", "30"), [b.id, c.id]) == {
        b.id: ["last order 45 days ago"], c.id: ["no order yet"]}


def test_order_count_in_a_window(three):
    a, b, c = three
    for n in (5, 20, 40, 100):
        order(a, n)
    order(b, 50)
    db.session.commit()
    assert matched(one("order_count", "gte", "3", days="60")) == {a.id}
    assert matched(one("order_count", "lte", "0", days="60")) == {c.id}
    assert rules.explain(one("order_count", "gte", "3", days="60"), [a.id])[a.id] == [
        "3 orders in the last 60 days"]


def test_ordered_a_product_in_a_window_the_north_route_example(three):
    a, b, c = three
    products, _ = factories.catalogue()
    pea = products["Pea shoots"]
    order(a, 10, product=pea)
    order(b, 45, product=pea)
    order(c, 5, product=products["Radish"])
    factories.delivery_plan(a, "North")
    factories.delivery_plan(b, "North")
    from crm.catalogue.models import Route
    north = db.session.scalar(select(Route).where(Route.name == "North"))
    tree = {"match": "all", "rules": [
        {"field": "route", "op": "in", "value": [north.id]},
        {"field": "ordered_product", "op": "none", "value": [pea.id], "days": "30"}]}
    assert matched(tree) == {b.id}
    assert matched(one("ordered_product", "any", [pea.id], days=30)) == {a.id}
    assert rules.explain(tree, [b.id])[b.id] == [
        "on route North", "has not ordered Pea shoots in the last 30 days"]


def test_revenue_balance_days_overdue_and_hold(three):
    a, b, c = three
    credit.issue_invoice(a, [("Pea", 1, 50000)], actor=SYSTEM, issue_date=days_ago(50),
                         due_date=days_ago(36))
    credit.issue_invoice(b, [("Pea", 1, 8000)], actor=SYSTEM, issue_date=days_ago(5),
                         due_date=days_ago(2))
    credit.issue_invoice(c, [("Pea", 1, 9000)], actor=SYSTEM, issue_date=days_ago(60),
                         due_date=days_ago(46))
    credit.record_payment(c, 9000, method="cash", received_on=days_ago(1), actor=SYSTEM)
    credit.place_hold(b, "Cheque bounced", actor=SYSTEM)
    db.session.commit()
    assert matched(one("revenue", "gte", "100.00", days="90")) == {a.id}
    assert matched(one("revenue", "lte", "100", days="30")) == {a.id, b.id, c.id}
    assert matched(one("balance", "gte", "80")) == {a.id, b.id}
    assert matched(one("balance", "lte", "0")) == {c.id}
    assert matched(one("days_overdue", "gte", "30")) == {a.id}  # c paid its old one
    assert matched(one("days_overdue", "gte", "1")) == {a.id, b.id}
    assert matched(one("days_overdue", "none")) == {c.id}
    assert matched(one("on_hold", "yes")) == {b.id}
    assert matched(one("on_hold", "no")) == {a.id, c.id}
    assert rules.explain(one("days_overdue", "gte", "30"), [a.id])[a.id] == [
        "oldest open invoice 36 days overdue"]


def test_amounts_are_said_only_when_the_viewer_may_see_them(three):
    a, _, _ = three
    credit.issue_invoice(a, [("Pea", 1, 50000)], actor=SYSTEM)
    db.session.commit()
    tree = one("balance", "gte", "100")
    assert rules.explain(tree, [a.id]) == {a.id: ["balance at least the amount set"]}
    assert rules.explain(tree, [a.id], amounts=True) == {a.id: ["balance $500.00"]}


def test_money_fields_are_refused_without_amounts(three):
    _, problems = rules.validate(one("revenue", "gte", "10", days="30"), amounts=False)
    assert [str(p) for p in problems] == [
        "Rule 1 in group 1: Revenue invoiced in the last … days is only for roles that see "
        "amounts."]
    with pytest.raises(rules.RuleError):
        rules.customer_ids(one("balance", "gte", "10"), amounts=False)
    assert all(not f.money for f in rules.fields_for(False))
    assert {"revenue", "balance"} <= {f.key for f in rules.fields_for(True)}


def test_last_interaction_days_ago_and_channel(three):
    a, b, c = three
    interaction(a, 3, "call")
    interaction(b, 40, "email")
    db.session.commit()
    assert matched(one("last_interaction", "within", "14")) == {a.id}
    assert matched(one("last_interaction", "within", "60", channel="email")) == {b.id}
    assert matched(one("last_interaction", "more_than", "14")) == {b.id, c.id}
    assert matched(one("last_interaction", "never", channel="call")) == {b.id, c.id}
    assert rules.explain(one("last_interaction", "more_than", "14"), [b.id, c.id]) == {
        b.id: ["last interaction 40 days ago"], c.id: ["no interaction logged"]}
    assert rules.explain(one("last_interaction", "within", "14", channel="call"),
                         [a.id])[a.id] == ["last call 3 days ago"]


def test_computed_categories(three):
    a, b, c = three
    db.session.add_all([
        CustomerCategory(customer_id=a.id, computed_on=farm_today(), value_tier="A",
                         churn_risk="low", engagement="high"),
        CustomerCategory(customer_id=b.id, computed_on=farm_today(), value_tier="C",
                         churn_risk="high", engagement="none")])
    db.session.commit()
    assert matched(one("value_tier", "in", ["A", "B"])) == {a.id}
    assert matched(one("value_tier", "not_in", ["A"])) == {b.id, c.id}  # c not computed yet
    assert matched(one("churn_risk", "in", ["high"])) == {b.id}
    assert matched(one("engagement", "in", ["high", "medium"])) == {a.id}
    assert rules.explain(one("churn_risk", "in", ["high"]), [b.id])[b.id] == [
        "churn risk is High"]


# -- groups ---------------------------------------------------------------------------------

def test_any_inside_all(three):
    a, b, c = three
    tree = {"match": "all", "rules": [
        {"field": "status", "op": "in", "value": ["active"]},
        {"match": "any", "rules": [
            {"field": "kind", "op": "in", "value": ["restaurant"]},
            {"field": "pricing_tier", "op": "in", "value": ["wholesale"]}]}]}
    assert matched(tree) == {a.id, c.id}
    assert rules.count(tree) == 2
    assert rules.explain(tree, [a.id, c.id]) == {
        a.id: ["status is Active", "kind is Restaurant"],
        c.id: ["status is Active", "pricing tier is Wholesale"]}
    tree["match"] = "any"
    tree["rules"][1]["match"] = "all"
    assert matched(tree) == {a.id, c.id}  # active ones, or restaurants on wholesale prices


def test_an_empty_top_group_is_every_unarchived_customer(three):
    assert matched(rules.empty_tree()) == {c.id for c in three}


def test_the_count_is_exactly_one_sql_statement(app, three):
    tree = {"match": "all", "rules": [
        {"field": "kind", "op": "in", "value": ["restaurant", "wholesale"]},
        {"field": "last_order", "op": "more_than", "value": "30"},
        {"field": "balance", "op": "lte", "value": "0"},
        {"match": "any", "rules": [
            {"field": "tags", "op": "none", "value": [1]},
            {"field": "last_interaction", "op": "within", "value": "30", "channel": "call"}]}]}
    with statements(app) as seen:
        assert rules.count(tree) == 2
    assert len(seen) == 1 and seen[0].lstrip().upper().startswith("SELECT")
    with statements(app) as seen:
        assert rules.counts([tree, one("kind", "in", ["grocer"]), {"bad": 1}]) == [2, 1, None]
    assert len(seen) == 1


def test_explain_takes_a_fixed_number_of_statements(app, three):
    a, b, c = three
    tag = find_or_create_tag("Wholesale", actor=SYSTEM)
    add_tag([a.id, b.id, c.id], tag, actor=SYSTEM)
    db.session.commit()
    ids = [a.id, b.id, c.id]
    tree = {"match": "all", "rules": [{"field": "tags", "op": "any", "value": [tag.id]},
                                      {"field": "last_order", "op": "never"}]}
    with statements(app) as seen:
        why = rules.explain(tree, ids)
    assert len(seen) == 2  # the rules, the tag names
    assert why[ids[1]] == ["has tag Wholesale", "no order yet"]


def test_user_text_is_bound_never_written_into_the_sql(app, three):
    nasty = "x'); DROP TABLE customer; --"
    statement = rules.customer_ids(one("city", "is", nasty))
    assert nasty not in str(statement.compile(db.engine))
    assert matched(one("city", "is", nasty)) == set()
    assert db.session.scalar(select(Customer.id).limit(1)) is not None


# -- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("rule, message", [
    ({}, "Rule 1 in group 1: choose what to filter by (this rule is empty)."),
    ({"field": ""}, "Rule 1 in group 1: choose what to filter by (this rule is empty)."),
    ({"field": "password_hash", "op": "in"},
     "Rule 1 in group 1: 'password_hash' is not a field rules can use."),
    ({"field": "kind", "op": "like"}, "Rule 1 in group 1: choose how to compare kind."),
    ({"field": "last_order", "op": "within", "value": "abc"},
     "Rule 1 in group 1: 'abc' is not a number of days."),
    ({"field": "last_order", "op": "within", "value": "-3"},
     "Rule 1 in group 1: '-3' is not a number of days."),
    ({"field": "last_order", "op": "within", "value": ""},
     "Rule 1 in group 1: type a number of days."),
    ({"field": "order_count", "op": "gte", "value": "2", "days": "soon"},
     "Rule 1 in group 1: 'soon' is not a number of days for the window."),
    ({"field": "order_count", "op": "gte", "value": "two", "days": "30"},
     "Rule 1 in group 1: 'two' is not a number of orders."),
    ({"field": "created", "op": "before", "value": "03/01/2026"},
     "Rule 1 in group 1: '03/01/2026' is not a date; write it as YYYY-MM-DD."),
    ({"field": "created", "op": "before", "value": "2026-02-30"},
     "Rule 1 in group 1: '2026-02-30' is not a date; write it as YYYY-MM-DD."),
    ({"field": "kind", "op": "in", "value": []}, "Rule 1 in group 1: choose at least one."),
    ({"field": "kind", "op": "in", "value": ["spaceship"]},
     "Rule 1 in group 1: 'spaceship' is not one of the choices."),
    ({"field": "tags", "op": "any", "value": ["1 OR 1=1"]},
     "Rule 1 in group 1: '1 OR 1=1' is not one of the choices."),
    ({"field": "balance", "op": "gte", "value": "lots"},
     "Rule 1 in group 1: 'lots' is not an amount. Write it like 12.50, with '.' before the "
     "cents."),
    ({"field": "city", "op": "is", "value": "   "}, "Rule 1 in group 1: type a city."),
    ({"field": "last_interaction", "op": "within", "value": "3", "channel": "pigeon"},
     "Rule 1 in group 1: 'pigeon' is not a channel."),
    ({"field": "days_overdue", "op": "gte", "value": "0"},
     "Rule 1 in group 1: '0' is not a number of days (1 or more)."),
])
def test_bad_rules_are_refused_with_where_and_why(app_ctx, rule, message):
    tree = {"match": "all", "rules": [rule]}
    _, problems = rules.validate(tree)
    assert [str(p) for p in problems] == [message]
    with pytest.raises(rules.RuleError):
        rules.count(tree)


def test_problems_locate_rules_in_nested_groups(app_ctx):
    tree = {"match": "all", "rules": [
        {"field": "kind", "op": "in", "value": ["grocer"]},
        {"match": "any", "rules": [
            {"field": "kind", "op": "in", "value": ["grocer"]},
            {"field": "last_order", "op": "within", "value": "abc"}]},
        {"match": "any", "rules": []},
        {"match": "maybe", "rules": [{"field": "status", "op": "in", "value": ["lead"]}]}]}
    _, problems = rules.validate(tree)
    assert [str(p) for p in problems] == [
        "Rule 2 in group 1.2: 'abc' is not a number of days.",
        "Group 1.3: this group has no rules; add one or remove the group.",
        "Group 1.4: choose all or any."]
    assert problems[0].key == "1.2.2"


def test_depth_and_rule_count_are_capped(app_ctx):
    deep = {"field": "kind", "op": "in", "value": ["grocer"]}
    for _ in range(4):
        deep = {"match": "all", "rules": [deep]}
    _, problems = rules.validate({"match": "all", "rules": [deep]})
    assert [str(p) for p in problems] == ["Group 1.1.1.1.1: groups go at most 4 levels deep."]
    many = {"match": "any", "rules": [{"field": "kind", "op": "in", "value": ["grocer"]}] * 31}
    _, problems = rules.validate(many)
    assert [str(p) for p in problems] == ["The rules: at most 30 rules (there are 31)."]


@pytest.mark.parametrize("tree", [None, [], "kind = 'grocer'", {"match": "all"},
                                  {"match": "all", "rules": "x"},
                                  {"match": "all", "rules": [["kind"]]}])
def test_trees_of_the_wrong_shape_are_refused(app_ctx, tree):
    _, problems = rules.validate(tree)
    assert problems
    with pytest.raises(rules.RuleError):
        rules.customer_ids(tree)


def test_a_deleted_tag_route_or_product_is_named_as_gone(three):
    a, _, _ = three
    tag = find_or_create_tag("Wholesale", actor=SYSTEM)
    add_tag([a.id], tag, actor=SYSTEM)
    db.session.commit()
    tree = {"match": "all", "rules": [{"field": "tags", "op": "any", "value": [tag.id]},
                                      {"field": "route", "op": "in", "value": [987654]},
                                      {"field": "liked", "op": "any", "value": [55, 56]}]}
    from crm.segments.models import CustomerTag, Tag
    db.session.execute(CustomerTag.__table__.delete())
    db.session.execute(Tag.__table__.delete())
    db.session.commit()
    _, problems = rules.validate(tree)
    assert [str(p) for p in problems] == [
        "Rule 1 in group 1: a tag chosen here no longer exists; choose again.",
        "Rule 2 in group 1: a route chosen here no longer exists; choose again.",
        "Rule 3 in group 1: 2 products chosen here no longer exist; choose again."]
    assert rules.count(tree) == 0  # still one query, and nobody has a tag that is gone
    assert rules.explain({"match": "any", "rules": [tree["rules"][0], one("kind", "in", [
        "restaurant"])["rules"][0]]}, [a.id])[a.id] == ["kind is Restaurant"]
