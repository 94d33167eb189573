"""Printable credit documents: the statement's arithmetic and aging (crm.credit.statements),
the invoice and statement pages and PDFs, who may see them, and their query counts."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.common import farm_today
from crm.credit import services as credit
from crm.credit import statements
from crm.credit.models import AGING_BUCKETS, LedgerEntry
from crm.customers.models import Address
from crm.extensions import db
from tests import factories
from tests.customers.test_list import count_queries
from tests.delivery.test_sheets import pdf_tool


def days_ago(n):
    return farm_today() - timedelta(days=n)


def issue(customer, total, staff, ago=0, description="Pea shoots 4 oz"):
    made = credit.issue_invoice(customer, [(description, 1, total)], actor=staff,
                                issue_date=days_ago(ago))
    db.session.commit()
    return made


def pay(customer, amount, staff, ago=0):
    made = credit.record_payment(customer, amount, method="cheque", reference="1042",
                                 received_on=days_ago(ago), actor=staff)
    db.session.commit()
    return made


@pytest.fixture
def books(app_ctx, staff):
    """A customer's year: invoices and payments backdated, a credit note and its reversal, a
    refund of what a payment left over, then an invoice that takes the rest of that credit.
    Balance 2000: invoice E open for 2000 (today, current)."""
    customer = factories.customer("Fern Cafe")
    a = issue(customer, 1000, staff, ago=60)  # net14: due 46 days ago
    pay(customer, 400, staff, ago=50)  # 400 onto A
    b = issue(customer, 2000, staff, ago=20)
    c = issue(customer, 1500, staff, ago=5)
    note = credit.settle_invoice(c, 300, kind="credit_note", memo="Wilted", actor=staff)
    db.session.commit()
    credit.reverse(note, memo="Entered on the wrong invoice", actor=staff)
    db.session.commit()
    big = pay(customer, 5000, staff, ago=3)  # A 600, B 2000, C 1500, 900 left
    credit.refund(big, 400, memo="Asked for it back", actor=staff)
    db.session.commit()
    e = issue(customer, 2500, staff)  # takes the 500 left: 2000 open
    return customer, {"a": a, "b": b, "c": c, "e": e}


def test_a_statement_is_opening_plus_movements_and_closes_at_the_balance(books):
    customer, _ = books
    st = statements.statement(customer, days_ago(30), farm_today())
    assert st.opening == 1000 - 400  # A less the first payment, both before the period
    assert [m.amount for m in st.movements] == [2000, 1500, -5000, -300, 300, 400, 2500]
    assert st.closing == st.opening + sum(m.amount for m in st.movements) == 2000
    assert st.closing == credit.balance(customer.id)
    assert st.movements[-1].running == st.closing
    assert st.charges - st.credits == st.closing - st.opening
    words = [m.description for m in st.movements]
    assert words[3].startswith("Credit note on INV-") and words[4].startswith("Reversal: credit")
    assert words[5].startswith("Refund of the payment of") and "Wilted" not in " ".join(words)
    assert [m.reversal for m in st.movements] == [False] * 4 + [True, False, False]
    # allocations move no money: none of them is a line
    assert all(m.kind != "allocation" for m in st.movements)
    whole = statements.statement(customer, days_ago(365), farm_today())
    assert whole.opening == 0 and whole.closing == credit.balance(customer.id)


def test_the_aging_on_a_statement_adds_up(books):
    customer, made = books
    st = statements.statement(customer, days_ago(90), farm_today())
    assert set(st.aging["buckets"]) == set(AGING_BUCKETS)
    assert sum(st.aging["buckets"].values()) == st.aging["total"]
    assert st.aging == credit.aging(customer.id, farm_today())  # as of today: the same
    assert st.aging["total"] - st.credit_on_account == st.closing
    assert [(i.number, i.open) for i in st.open_invoices] == [(made["e"].number, 2000)]


def test_a_statement_ending_in_the_past_ages_what_was_open_then(books):
    customer, made = books
    st = statements.statement(customer, days_ago(90), days_ago(30))
    assert st.closing == 600  # A's rest: the later invoices and payments are not in it
    assert [(i.number, i.open, i.bucket) for i in st.open_invoices] == [
        (made["a"].number, 600, "1-30")]  # due 46 days ago: 16 days late then
    assert st.aging["total"] == 600 == st.closing and st.credit_on_account == 0


def test_credit_on_account_explains_the_aging_and_the_balance(app_ctx, staff):
    customer = factories.customer("Oak Bistro")
    issue(customer, 1000, staff, ago=40)
    pay(customer, 1500, staff, ago=2)
    st = statements.statement(customer, days_ago(60), farm_today())
    assert st.closing == -500 == credit.balance(customer.id)
    assert st.aging["total"] == 0 and st.credit_on_account == 500


def test_a_period_ending_before_it_starts_is_refused(app_ctx):
    customer = factories.customer("Oak Bistro")
    with pytest.raises(statements.StatementError, match="start on or before"):
        statements.statement(customer, farm_today(), days_ago(1))


def test_the_statement_takes_the_same_queries_for_5_or_50_invoices(app, app_ctx, staff):
    counts = []
    for n in (5, 50):
        customer = factories.customer(f"Counted {n}")
        for i in range(n):
            issue(customer, 100 + i, staff, ago=n - i)
            if i % 2:
                pay(customer, 50, staff, ago=n - i)
        db.session.expire_all()  # nothing read before helps the count
        assert customer.id  # (but the customer itself, as a caller has it)
        with count_queries(app) as queries:
            st = statements.statement(customer, days_ago(60), farm_today())
        assert len(st.movements) > n
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 3


# -- the pages and PDFs ------------------------------------------------------------------------

@pytest.fixture
def billed(app, books):
    """The books' customer with a billing address; (customer id, {name: invoice id})."""
    customer, made = books
    db.session.add(Address(customer_id=customer.id, kind="billing", street="1 Ledger Lane",
                           city="Evanston", region="IL", postal_code="60201"))
    db.session.commit()
    return customer.id, {k: v.id for k, v in made.items()}, customer.number


def urls(customer_id, invoice_id):
    base = f"/customers/{customer_id}"
    return [f"{base}/invoices/{invoice_id}", f"{base}/invoices/{invoice_id}.pdf",
            f"{base}/statement", f"{base}/statement.pdf"]


def test_finance_reads_and_prints_an_invoice(app, client, auth, billed):
    customer_id, made, number = billed
    auth.sign_in("finance")
    page = client.get(f"/customers/{customer_id}/invoices/{made['a']}")
    assert page.status_code == 200
    text = page.text
    year = farm_today().year
    for shown in ("Green Shoots Farm", "Fern Cafe", number, "1 Ledger Lane", "Evanston, IL 60201",
                  f"INV-{year if days_ago(60).year == year else year - 1}-", "Pea shoots 4 oz",
                  "Net 14", "$10.00", "Paid", "-$10.00", "Paid in full", 'data-print'):
        assert shown in text, shown
    pdf = client.get(f"/customers/{customer_id}/invoices/{made['e']}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    disposition = pdf.headers["Content-Disposition"]
    assert disposition.startswith("inline;") and "INV-" in disposition and ".pdf" in disposition
    assert "Fern" not in disposition and "CUST" not in disposition


def test_an_open_invoice_says_what_is_due(app, client, auth, billed):
    customer_id, made, _ = billed
    auth.sign_in("finance")
    text = client.get(f"/customers/{customer_id}/invoices/{made['e']}").text
    assert "$25.00" in text and "-$5.00" in text and "$20.00" in text  # total, paid, open
    assert "Amount due by" in text and "Paid in full" not in text


def test_finance_reads_and_prints_a_statement(app, client, auth, billed, tmp_path):
    customer_id, _, number = billed
    auth.sign_in("finance")
    start = days_ago(30).isoformat()
    page = client.get(f"/customers/{customer_id}/statement?from={start}")
    assert page.status_code == 200
    text = page.text
    for shown in ("Statement of account", "Opening balance", "$6.00", "Closing balance",
                  "$20.00", "Reversal: credit note", "Refund of the payment", "Not yet due",
                  "Over 90 days", "Total open", "1 Ledger Lane", f'value="{start}"'):
        assert shown in text, shown
    default = client.get(f"/customers/{customer_id}/statement")
    assert f'value="{days_ago(90).isoformat()}"' in default.text
    assert f'value="{farm_today().isoformat()}"' in default.text
    pdf = client.get(f"/customers/{customer_id}/statement.pdf?from={start}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    disposition = pdf.headers["Content-Disposition"]
    assert f"statement-{number}-{farm_today():%Y-%m}.pdf" in disposition
    assert "Fern" not in disposition
    printed = pdf_tool("pdftotext", pdf.data, tmp_path)
    assert "Statement of account" in printed and "Closing balance" in printed
    assert f"{number} ·" in printed and "Page 1 of 1" in printed  # the footer of each page
    assert "Sign out" not in printed and "Show" not in printed  # no navigation, no form


@pytest.mark.parametrize("bad", ["from=2026-13-01", "to=yesterday", "from=2026-05-02&to=2026-05-01"])
def test_a_bad_period_is_a_clear_400(app, client, auth, billed, bad):
    customer_id, _, _ = billed
    auth.sign_in("finance")
    for url in (f"/customers/{customer_id}/statement?{bad}",
                f"/customers/{customer_id}/statement.pdf?{bad}"):
        page = client.get(url)
        assert page.status_code == 400 and 'role="alert"' in page.text


@pytest.mark.parametrize("role", ["sales", "delivery"])
def test_roles_that_may_not_see_money_get_403(app, client, auth, billed, role):
    customer_id, made, _ = billed
    auth.sign_in(role)
    for url in urls(customer_id, made["a"]):
        assert client.get(url).status_code == 403, url


def test_another_customers_invoice_is_not_found(app, client, auth, billed, staff):
    customer_id, made, _ = billed
    other = factories.customer("Oak Bistro")
    theirs = issue(other, 700, staff)
    auth.sign_in("finance")
    assert client.get(f"/customers/{other.id}/invoices/{made['a']}").status_code == 404
    assert client.get(f"/customers/{customer_id}/invoices/{theirs.id}.pdf").status_code == 404
    assert client.get(f"/customers/{other.id}/invoices/{theirs.id}").status_code == 200


def test_the_statement_page_takes_the_same_queries_for_5_or_50_invoices(app, client, auth,
                                                                        app_ctx, staff):
    auth.sign_in("finance")
    counts = []
    for n in (5, 50):
        customer = factories.customer(f"Counted {n}")
        for i in range(n):
            issue(customer, 100 + i, staff, ago=n - i)
        pay(customer, 1000, staff)
        with count_queries(app) as queries:
            page = client.get(f"/customers/{customer.id}/statement")
        assert page.status_code == 200 and page.text.count("Invoice INV-") == n
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert db.session.scalar(select(LedgerEntry.id).limit(1)) is not None
