"""Screenshots of the main pages at desktop and phone widths, for a person to look at.

Written to test-artifacts/screenshots/<width>/ (gitignored). This test only fails when a page
does not load or cannot be driven; how the pages look is judged by people, never asserted here.
Horizontal overflow found at each step is listed in test-artifacts/screenshots/<width>/overflow.txt.
"""
import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import DESKTOP, PHONE, Screenshots, sign_in

pytestmark = pytest.mark.e2e

SEED = [
    ("Blue Heron Bistro", "restaurant", "active"),
    ("Golden Radish Cafe", "restaurant", "active"),
    ("Logan Square Farmers Market", "market", "active"),
    ("Pilsen Community Grocer", "grocer", "lead"),
    ("The Extraordinarily Long-Named Farm-to-Table Supper Club of Ravenswood Manor", "caterer",
     "paused"),
    ("Hyde Park CSA — Share 14", "csa_member", "active"),
    ("Wicker Park Wholesale Produce", "wholesale", "churned"),
    ("Andersonville Bakehouse", "restaurant", "lead"),
    ("Maria Gonzalez", "individual", "active"),
    ("Fulton Market Catering Co.", "caterer", "active"),
    ("Green City Market Stall 7", "market", "paused"),
    ("Bridgeport Noodle Bar", "restaurant", "active"),
]

@pytest.mark.parametrize("width_name, viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshots_of_main_pages(app, new_page, make_staff, width_name, viewport):
    shots = Screenshots(width_name)
    shot, overflow, out = shots.take, shots.overflow, shots.out

    with app.app_context():
        first = None
        for name, kind, status in SEED:
            made = factories.customer(name, kind=kind, status=status,
                                      notes="Wants pea shoots and sunflower every Tuesday.\n"
                                            "Invoice monthly.")
            first = first or made
        first_id = first.id
    email, password = make_staff("admin")
    page = new_page(viewport)

    # Sign-in: as it opens (email autofocused), then with keyboard focus on the button.
    page.goto("/auth/sign-in")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    shot(page, "01-sign-in", full_page=False)
    page.get_by_label("Email").fill(email)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    shot(page, "02-sign-in-button-focused", full_page=False)

    # A wrong password shows the sign-in error.
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    shot(page, "03-sign-in-error", full_page=False)

    sign_in(page, email, password)
    expect(page.get_by_role("link", name="Blue Heron Bistro")).to_be_visible()
    shot(page, "04-customer-list")
    page.keyboard.press("Tab")  # the skip link
    shot(page, "05-customer-list-skip-link-focused", full_page=False)
    page.get_by_label("Search").press_sequentially("gre", delay=30)
    expect(page.locator("#results")).to_contain_text("matching “gre”")
    page.keyboard.press("Tab")  # from the search box to the next control
    shot(page, "06-customer-list-searched-next-focused", full_page=False)

    page.goto(f"/customers/{first_id}")
    expect(page.get_by_role("heading", level=1, name="Blue Heron Bistro")).to_be_visible()
    shot(page, "07-customer-detail")
    page.get_by_role("navigation", name="Customer sections").get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", level=2, name="Contacts")).to_be_visible()
    shot(page, "08-customer-detail-contacts")

    page.goto("/customers/new")
    page.get_by_label("First name", exact=True).fill("Maria")
    page.get_by_label("Email", exact=True).fill("maria at blueheron")
    page.get_by_label("Phone", exact=True).fill("555")
    page.get_by_label("Street", exact=True).fill("1420 N Milwaukee Ave")
    page.get_by_label("ZIP / postal code", exact=True).fill("6062")
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("alert")).to_contain_text("Please fix")
    shot(page, "09-new-customer-errors")

    # Fixed and created: the detail page with its confirmation toast.
    page.get_by_label("Name", exact=True).fill("Ukrainian Village Sprout Bar")
    page.get_by_label("Email", exact=True).fill("maria@sproutbar.com")
    page.get_by_label("Phone", exact=True).fill("(312) 555-0142")
    page.get_by_label("City", exact=True).fill("Chicago")
    page.get_by_label("ZIP / postal code", exact=True).fill("60622")
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("heading", level=1, name="Ukrainian Village Sprout Bar")).to_be_visible()
    expect(page.locator("#toasts .toast")).to_be_visible()
    shot(page, "10-customer-created-toast", full_page=False)

    (out / "overflow.txt").write_text("\n".join(overflow) + "\n" if overflow else "none\n")
