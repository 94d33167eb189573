"""Issue 17 item 3 in a browser: the grower signs in, lands on the sowing plan, sees the trays,
plans two weeks, prints it (print media: no navigation, the tables shown), and corrects a
variety's growing data (a bad value first). Screenshots of the plan at 1280 and 390 px, its
print view and the growing-data form go to test-artifacts/screenshots/<width>/sowing-*.png."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from crm.common import SYSTEM, farm_today
from crm.extensions import db
from crm.orders import services as orders
from crm.preferences.models import StandingItem
from tests import factories
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, Screenshots

pytestmark = pytest.mark.e2e


@pytest.fixture
def farm(app):
    """A grower; three customers delivering every weekday with standing pea shoots, radish and
    sunflower; one confirmed order for the day after tomorrow."""
    from crm.auth.services import create_user

    with app.app_context():
        products, packaging = factories.catalogue()
        create_user("grower@farm.test", "Gale Grower", "grower", PASSWORD, actor=SYSTEM)
        pea, radish, sun = products["Pea shoots"], products["Radish"], products["Sunflower"]
        clam, bag = packaging["4 oz clamshell"], packaging["1 lb bulk bag"]
        days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
        for n, name in enumerate(("Fern Cafe", "Oak Bistro", "Elm Grocer")):
            customer = factories.customer(name)
            factories.delivery_plan(customer, weekdays=days[n::2] + ("Sat",), stop=n + 1)
            for product, size, qty, pack in ((pea, "4 oz", 6 + n, clam), (radish, "2 oz", 4, clam),
                                             (sun, "1 lb", 2 + n, bag)):
                db.session.add(StandingItem(customer_id=customer.id, product=product, size=size,
                                            quantity=qty, packaging=pack))
        orders.set_prices({(pea.id, "1 lb", "standard"): 2400}, actor=SYSTEM)
        order = orders.create_order(customer, farm_today() + timedelta(days=2),
                                    [orders.Line(pea.id, "1 lb", 5, bag.id)], actor=SYSTEM)
        orders.confirm_order(order, actor=SYSTEM)
        db.session.commit()
        db.session.remove()
    return "grower@farm.test"


def sign_in_as_grower(page, email):
    page.goto("/auth/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/sowing"))


@pytest.mark.parametrize("width_name, viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_the_grower_opens_the_sowing_plan_and_prints_it(farm, new_page, width_name, viewport):
    shots = Screenshots(width_name)
    page = new_page(viewport)
    sign_in_as_grower(page, farm)
    expect(page.get_by_role("heading", name="Sowing plan", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"trays? to sow"))).to_be_visible()
    assert page.get_by_role("table").count() > 3
    expect(page.locator(".sowing-table").first).to_contain_text("Pea shoots")
    # two weeks from the day whose sowing is still ahead: something to sow from today on
    page.get_by_role("link", name=re.compile(r"plan the deliveries from")).click()
    expect(page.locator("#sowing-days")).to_have_value("14")
    expect(page.locator(".packing-day")).to_have_count(14)
    expect(page.locator(".sowing-day:not(.late)").first).to_be_visible()
    shots.take(page, "sowing-plan")
    # the plan only, through htmx, when the form changes
    page.locator("#sowing-days").select_option("7")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".packing-day")).to_have_count(7)
    assert re.search(r"days=7", page.url)
    # print: the same page with the print CSS
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.locator("form.sowing-form")).to_be_hidden()
    expect(page.locator(".sowing-table").first).to_be_visible()
    expect(page.locator(".packing-table").first).to_be_visible()
    expect(page.locator(".containers-table")).to_be_visible()
    expect(page.locator(".sowing-head .print-only")).to_have_text(re.compile("· sowing plan"))
    expect(page.locator(".sowing-head .print-only")).to_be_visible()
    shots.take(page, "sowing-print")
    page.emulate_media(media="screen")
    assert not shots.overflow, shots.overflow


def test_the_grower_corrects_growing_data(farm, new_page):
    shots = Screenshots("desktop")
    page = new_page(DESKTOP)
    sign_in_as_grower(page, farm)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Growing data").click()
    item = page.locator("article", has=page.get_by_role("heading", name="Pea shoots", exact=True))
    item.get_by_role("link", name=re.compile("Edit")).click()
    form = page.locator("article form")
    form.get_by_label("Loss allowance (%)").fill("75")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Loss allowance is from 0 to 50 %.")
    expect(page.get_by_label("Loss allowance (%)")).to_have_value("75")
    shots.take(page, "sowing-growing-form")
    page.get_by_label("Loss allowance (%)").fill("12")
    page.get_by_label("Yield per tray (g)").fill("380")
    page.get_by_role("button", name="Save").click()
    done = page.locator("article", has=page.get_by_role("heading", name="Pea shoots", exact=True))
    expect(done).to_contain_text("380 g")
    expect(done).to_contain_text("12 %")
    expect(page.locator(".toasts")).to_contain_text("Growing data of Pea shoots saved.")
