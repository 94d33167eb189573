"""Credit in a real browser: finance sets a limit on an account held for an old invoice;
sales confirms an order and is refused with the reasons, without a single amount; finance
records the payment, the automatic hold lifts, the order confirms, and the statement PDF
shows it all."""
import re
import subprocess
from datetime import timedelta

from playwright.sync_api import expect

from crm.common import SYSTEM, farm_today
from crm.credit import services as credit
from crm.extensions import db
from crm.orders import services as orders
from tests import factories
from tests.e2e.conftest import PHONE, sign_in


def held_customer(app):
    """A bistro with a $100 invoice 46 days overdue (so on automatic hold) and a draft order
    of ten 4 oz pea shoots at $6.00: (customer id, order id, invoice number)."""
    with app.app_context():
        products, packaging = factories.catalogue()
        pea = products["Pea shoots"].id
        orders.set_prices({(pea, "4 oz", "standard"): 600}, actor=SYSTEM)
        customer = factories.customer("Blue Heron Bistro")
        today = farm_today()
        invoice = credit.issue_invoice(customer, [("Pea shoots 4 oz", 1, 10000)], actor=SYSTEM,
                                       issue_date=today - timedelta(days=60))
        credit.refresh_automatic_hold(customer, actor=SYSTEM)
        order = orders.create_order(customer, today + timedelta(days=2), [
            orders.Line(pea, "4 oz", 10, packaging["4 oz clamshell"].id)], actor=SYSTEM)
        db.session.commit()
        made = customer.id, order.id, invoice.number
        db.session.remove()
        return made


def test_a_held_account_blocks_an_order_until_finance_records_the_payment(
        app, new_page, make_staff, tmp_path):
    customer_id, order_id, number = held_customer(app)
    finance_email, _ = make_staff("finance")
    sales_email, _ = make_staff("sales")
    credit_url = f"/customers/{customer_id}/credit"
    order_url = f"/customers/{customer_id}/orders/{order_id}"

    # Finance: the account is held for the old invoice; a limit of $150 is set.
    finance = new_page()
    sign_in(finance, finance_email)
    finance.goto(credit_url)
    status = finance.get_by_role("region", name=re.compile("^Credit status"))
    expect(status).to_contain_text("New orders blocked")
    expect(status).to_contain_text(f"{number} is 46 days overdue")
    finance.get_by_text("Credit limit and terms", exact=True).click()
    finance.get_by_label("Credit limit").fill("150")
    finance.get_by_role("button", name="Save terms").click()
    expect(finance.locator("#toasts")).to_contain_text("Credit terms saved.")
    expect(finance.get_by_role("region", name="Account")).to_contain_text("$150.00")

    # Sales, on a phone: Confirm is refused with the reasons in words, no amount anywhere.
    sales = new_page(PHONE)
    sign_in(sales, sales_email)
    sales.goto(order_url)
    sales.get_by_role("button", name="Confirm order").click()
    reasons = sales.locator(".credit-reasons")
    expect(reasons).to_contain_text("The account is on hold.")
    expect(reasons).to_contain_text("An invoice is more than 30 days overdue.")
    expect(sales.locator("#order-heading")).to_contain_text("Draft")
    assert not re.search(r"\$\s?\d", sales.locator("main").inner_text())
    expect(sales.get_by_role("button", name="Confirm anyway")).to_have_count(0)

    # Finance records the $100 cheque: oldest invoice paid, the automatic hold lifts.
    finance.goto(credit_url)
    finance.get_by_text("Record a payment", exact=True).click()
    form = finance.locator("#payment-form")
    form.get_by_label("Amount").fill("100.00")
    form.get_by_label("Paid by").select_option("cheque")
    form.get_by_label("Reference").fill("1042")
    form.get_by_role("button", name="Record the payment").click()
    expect(finance.locator("#toasts")).to_contain_text("Payment recorded")
    status = finance.get_by_role("region", name=re.compile("^Credit status"))
    expect(status).to_contain_text("OK")
    expect(finance.get_by_role("region", name="Open invoices")).to_contain_text("Nothing open.")

    # Sales again: the order confirms now.
    sales.goto(order_url)
    sales.get_by_role("button", name="Confirm order").click()
    expect(sales.locator("#order-heading")).to_contain_text("Confirmed")

    # The statement PDF shows the invoice, the cheque and the closing balance.
    pdf = finance.request.get(f"/customers/{customer_id}/statement.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf.body())
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert number in text and "1042" in text and "Blue Heron Bistro" in text
    assert "$100.00" in text and re.search(r"Closing balance\s+\$0\.00", text), text
