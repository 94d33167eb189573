"""axe-core over every page, at desktop and phone width: no serious or critical violation.

The demo farm gives every page something to show; each page is opened as a role that sees it
(admin, and a viewer for the read-only tabs), and checked as it first renders."""
import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from crm.extensions import db
from tests.e2e.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.e2e

BLOCKING = ("serious", "critical")


@pytest.fixture
def demo(app):
    """The demo farm; (a customer with a bit of everything, a contact, a ticket)."""
    from crm.auth.models import StaffUser
    from crm.communications.models import Ticket
    from crm.contacts.models import CustomerContact
    from crm.demo.seed import seed

    with app.app_context():
        seed(weeks=4)  # a month of orders and invoices is enough here
        ticket = db.session.scalar(select(Ticket).order_by(Ticket.id).limit(1))
        link = db.session.scalar(select(CustomerContact)
                                 .where(CustomerContact.customer_id == ticket.customer_id)
                                 .limit(1))
        staff = db.session.scalar(select(StaffUser.id).order_by(StaffUser.id).limit(1))
        from crm.segments.models import Segment

        segment = db.session.scalar(select(Segment.id).where(Segment.shared))
        found = ticket.customer_id, link.contact_id, ticket.id, staff, segment
        db.session.remove()
    return found


def pages(customer, contact, ticket, staff, segment):
    return [
        "/customers/", f"/customers/{customer}", f"/customers/{customer}/contacts",
        f"/customers/{customer}/preferences", f"/customers/{customer}/communications",
        f"/customers/{customer}/edit", "/customers/new", "/contacts/", f"/contacts/{contact}",
        "/contacts/import", "/contacts/duplicates", "/follow-ups", "/follow-ups?assignee=all",
        "/tickets", "/tickets/new",
        f"/tickets/{ticket}", "/activity", "/delivery/sheets", f"/delivery/customers/{customer}",
        "/catalogue/", "/admin/", "/admin/users/", f"/admin/users/{staff}",
        # credit and orders (issue 15)
        f"/customers/{customer}/credit", f"/customers/{customer}/orders", "/credit",
        "/credit/import", "/prices", "/orders/for-day", f"/customers/{customer}/statement",
        # a section opened for editing (the pages a browser without JavaScript gets)
        f"/customers/{customer}/preferences/plan/edit",
        f"/customers/{customer}/preferences/items/edit",
        f"/customers/{customer}/preferences/contacts/{contact}/edit",
        f"/customers/{customer}/contacts/{contact}/edit",
        # tags, segments and categories (issue 16)
        "/tags", "/segments", "/segments/new", f"/segments/{segment}",
        f"/segments/{segment}/marketing", f"/customers/?segment={segment}",
        "/follow-ups?sort=priority", "/tickets?sort=risk",
    ]


def violations(page) -> list:
    found = Axe().run(page).response["violations"]
    return [f"{v['impact']} {v['id']}: {v['help']} — "
            + "; ".join(n["target"][0] if isinstance(n["target"][0], str) else str(n["target"])
                        for n in v["nodes"][:3])
            for v in found if v["impact"] in BLOCKING]


def sign_in_as(page, email):
    page.goto("/auth/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("microgreens")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/customers/**")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_serious_or_critical_violations_anywhere(demo, new_page, viewport):
    customer, contact, ticket, staff, segment = demo
    page = new_page(viewport)
    page.goto("/auth/sign-in")
    found = {"/auth/sign-in": violations(page)}
    sign_in_as(page, "admin@example.com")
    for url in pages(customer, contact, ticket, staff, segment):
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        found[url] = violations(page)
    viewer = new_page(viewport)
    sign_in_as(viewer, "viewer@example.com")
    for url in pages(customer, contact, ticket, staff, segment)[:5]:
        viewer.goto(url)
        viewer.wait_for_load_state("networkidle")
        found[f"viewer {url}"] = violations(viewer)
    assert {url: v for url, v in found.items() if v} == {}
