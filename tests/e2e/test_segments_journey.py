"""Segments in a real browser: sales builds a segment of three rules (kind, status, and "has
none of tag Paused"), watching the live count change after each, saves it, follows "Open in
the customer list" to the list filtered by it, and tags every customer it holds at once."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from crm.common import SYSTEM
from crm.customers.models import Customer
from crm.extensions import db
from crm.segments.models import CustomerTag, Tag
from crm.segments.tags import add_tag, find_or_create_tag
from tests import factories
from tests.e2e.conftest import sign_in


def seed(app):
    with app.app_context():
        held = factories.customer("Blue Heron", kind="restaurant")
        factories.customer("Green Table", kind="restaurant")
        factories.customer("Sleepy Diner", kind="restaurant", status="paused")
        factories.customer("Corner Grocer", kind="grocer")
        add_tag([held.id], find_or_create_tag("Paused", actor=SYSTEM), actor=SYSTEM)
        db.session.commit()
        db.session.remove()


def pick_field(page, n, field):
    """Choose the rule's field; its row comes back with the operators and values for it and
    the focus stays on the field (once htmx has settled the new row)."""
    chooser = page.get_by_label(f"Rule {n} in group 1: field")
    expect(chooser).to_be_focused()  # a new row is ready (htmx wires it as it settles)
    chooser.select_option(field)
    expect(page.get_by_label(f"Rule {n} in group 1: how")).to_be_visible()
    expect(page.get_by_label(f"Rule {n} in group 1: field")).to_be_focused()


def test_build_a_segment_watch_the_count_save_it_and_open_it(app, page, make_staff):
    seed(app)
    email, _ = make_staff("sales")
    sign_in(page, email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Segments").click()
    page.get_by_role("link", name="New segment").click()
    count = page.locator("#segment-count")
    expect(count).to_have_text("4 customers match")
    expect(count).to_have_attribute("aria-live", "polite")

    # 1: kind is Restaurant
    pick_field(page, 1, "kind")
    page.locator("#rule-1-1").get_by_label("Restaurant").check()
    expect(count).to_have_text("3 customers match")

    # 2: status is Active
    page.get_by_role("button", name="Add a rule to the top group").click()
    pick_field(page, 2, "status")
    page.locator("#rule-1-2").get_by_label("Active").check()
    expect(count).to_have_text("2 customers match")

    # 3: has none of tag Paused
    page.get_by_role("button", name="Add a rule to the top group").click()
    pick_field(page, 3, "tags")
    page.get_by_label("Rule 3 in group 1: how").select_option("none")
    page.locator("#rule-1-3").get_by_label("Paused").check()
    expect(count).to_have_text("1 customer matches")
    preview = page.locator("#segment-preview")
    expect(preview).to_contain_text("Green Table")
    expect(preview).to_contain_text("kind is Restaurant · status is Active · has none of tag "
                                    "Paused")
    expect(preview).not_to_contain_text("Blue Heron")

    page.get_by_label("Name").fill("Active restaurants, not paused")
    page.get_by_label("Shared with the team").check()
    page.get_by_role("button", name="Save segment").click()
    page.wait_for_url(re.compile(r"/segments/\d+$"))
    segment_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("#toasts")).to_contain_text("Segment “Active restaurants, not paused” "
                                                    "saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Active restaurants, not paused")
    expect(count).to_have_text("1 customer matches")
    expect(page.get_by_label("Rule 3 in group 1: how")).to_have_value("none")

    link = page.get_by_role("link", name="Open in the customer list").first
    expect(link).to_have_attribute("href", f"/customers/?segment={segment_id}")
    link.click()
    page.wait_for_url(re.compile(rf"/customers/\?segment={segment_id}$"))
    expect(page.get_by_label("Segment")).to_have_value(segment_id)
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Green Table")).to_be_visible()
    for other in ("Blue Heron", "Sleepy Diner", "Corner Grocer"):
        expect(results.get_by_role("link", name=other)).to_have_count(0)

    # bulk-tag everyone the segment holds
    page.get_by_label("All 1 on this page").check()
    page.get_by_label("Tag to add or remove").fill("Spring tasting")
    page.get_by_role("button", name="Add the tag").click()
    expect(page.locator("#bulk-tag-status")).to_contain_text("“Spring tasting” added to "
                                                             "1 customer")
    with app.app_context():
        tagged = db.session.scalars(
            select(Customer.name).join(CustomerTag, CustomerTag.customer_id == Customer.id)
            .join(Tag, Tag.id == CustomerTag.tag_id)
            .where(Tag.name == "Spring tasting")).all()
        db.session.remove()
    assert tagged == ["Green Table"]

    page.goto("/segments")
    row = page.get_by_role("row", name=re.compile("Active restaurants, not paused"))
    expect(row).to_contain_text("1")
    expect(row).to_contain_text("Shared")
