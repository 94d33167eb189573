"""Admin › Staff users in a real browser: add a user (a short password first), give them
another role, meet another admin's save (409), disable them, all by label and role; screenshots at desktop and phone width in
test-artifacts/screenshots/<width>/admin-*.png (overflow noted in admin-overflow.txt)."""
import re

import pytest
from playwright.sync_api import expect

from crm.auth.services import find_by_email, update_staff_user
from crm.common import SYSTEM
from crm.extensions import db
from tests.e2e.conftest import DESKTOP, PHONE, Screenshots, sign_in

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width_name, viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_an_admin_adds_a_user_changes_their_role_and_disables_them(
        app, new_page, make_staff, width_name, viewport):
    shots = Screenshots(width_name)
    make_staff("manager", "morgan@farm.test", "Morgan Fields")
    make_staff("delivery", "dana@farm.test", "Dana Route")
    email, password = make_staff("admin", "avery@farm.test", "Avery Admin")
    page = new_page(viewport)
    sign_in(page, email, password)

    if width_name == "phone":  # the navigation is behind the Menu button at phone width
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    page.get_by_role("link", name=re.compile("Add staff users")).click()
    expect(page.get_by_role("heading", level=1, name="Staff users")).to_be_visible()
    table = page.get_by_role("table", name="Staff users, active first")
    expect(table.get_by_role("row", name=re.compile("Avery Admin"))).to_contain_text("(you)")
    expect(table.get_by_role("row", name=re.compile("Dana Route"))).to_contain_text("Never")
    shots.take(page, "admin-01-staff-users")

    # A password that is too short: refused in place, next to the field; the rest kept.
    form = page.locator("#new-staff-user")
    form.get_by_label("Email").fill("sam@farm.test")
    form.get_by_label("Name").fill("Sam Sprout")
    form.get_by_label("Role").select_option("sales")
    form.get_by_label("Password", exact=True).fill("sprouts")
    form.get_by_label("Repeat the password").fill("sprouts")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        form.get_by_role("button", name="Add staff user").press("Enter")
    assert answer.value.status == 422
    password_box = page.locator("#new-staff-user").get_by_label("Password", exact=True)
    expect(password_box).to_have_attribute("aria-invalid", "true")
    expect(password_box).to_have_accessible_description(
        re.compile("The password must be at least 10 characters."))
    expect(page.locator("#new-staff-user").get_by_label("Email")).to_have_value("sam@farm.test")
    expect(page.locator("#new-staff-user").get_by_label("Role")).to_have_value("sales")
    expect(page.get_by_role("alert")).to_be_focused()
    shots.take(page, "admin-02-short-password")

    form = page.locator("#new-staff-user")
    form.get_by_label("Password", exact=True).fill("pea shoots and sunflower")
    form.get_by_label("Repeat the password").fill("pea shoots and sunflower")
    form.get_by_role("button", name="Add staff user").click()
    expect(page.locator("#toasts")).to_contain_text(re.compile(
        r"Staff user #\d+ added with the Sales role\."))
    expect(table.get_by_role("row", name=re.compile("Sam Sprout"))).to_contain_text("Sales")

    # Another role, then disabled: each from the user's page, by keyboard-reachable controls.
    table.get_by_role("link", name="Change Sam Sprout").click()
    expect(page.get_by_role("heading", level=1, name="Sam Sprout")).to_be_visible()
    shots.take(page, "admin-03-staff-user")
    page.get_by_label("Role", exact=True).select_option("manager")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#toasts")).to_contain_text(re.compile(
        r"Staff user #\d+ now has the Manager role\. Their sessions have ended\."))
    # Another admin saves while this page is open: this save is refused, theirs shown.
    table.get_by_role("link", name="Change Sam Sprout").click()
    with app.app_context():
        sam = find_by_email("sam@farm.test")
        update_staff_user(sam, role="finance", active=True, expected_version=sam.version,
                          actor=SYSTEM)
        db.session.commit()
        db.session.remove()
    page.get_by_label("Status", exact=True).select_option("disabled")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Save").click()
    assert answer.value.status == 409
    expect(page.get_by_role("alert")).to_contain_text("Another admin changed this staff user")
    expect(page.get_by_role("alert")).to_contain_text("Finance")
    expect(page.get_by_label("Status", exact=True)).to_have_value("disabled")  # kept
    shots.take(page, "admin-04-conflict")
    page.get_by_role("link", name="start over from theirs").click()
    expect(page.get_by_label("Role", exact=True)).to_have_value("finance")
    page.get_by_label("Status", exact=True).select_option("disabled")
    page.get_by_label("Status", exact=True).focus()
    page.keyboard.press("Tab")  # to the Save button, then Enter, as on a keyboard
    expect(page.get_by_role("button", name="Save")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text(re.compile(r"Staff user #\d+ disabled\."))
    expect(table.get_by_role("row", name=re.compile("Sam Sprout"))).to_contain_text("Disabled")
    shots.take(page, "admin-05-after-disable")

    # Their own page: no controls that could only be refused.
    table.get_by_role("link", name="Change Avery Admin").click()
    expect(page.get_by_text("This is your own account")).to_be_visible()
    expect(page.get_by_label("Role", exact=True)).to_have_count(0)
    shots.take(page, "admin-06-own-account")
    (shots.out / "admin-overflow.txt").write_text(
        "\n".join(shots.overflow) + "\n" if shots.overflow else "none\n")
