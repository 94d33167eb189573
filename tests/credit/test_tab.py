"""The Credit tab: who sees what, the forms and their bad input, one payment per send."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.common import SYSTEM, farm_today
from crm.credit import services as credit
from crm.credit.models import Payment
from crm.extensions import db
from crm.features import registry
from crm.security.permissions import PERMISSIONS, ROLES
from tests import factories
from tests.customers.test_list import queries_for

MONEY = re.compile(r"[$]\s?\d")


@pytest.fixture
def owing(app):
    """A customer with two invoices (one overdue), a payment and a limit: its id."""
    with app.app_context():
        customer = factories.customer("Fern Cafe")
        credit.set_terms(customer, credit_limit=50000, terms="net14", version=None, actor=SYSTEM)
        today = farm_today()
        credit.issue_invoice(customer, [("Pea shoots 4 oz", 20, 600)], actor=SYSTEM,
                             issue_date=today - timedelta(days=40))
        credit.issue_invoice(customer, [("Sunflower 4 oz", 10, 500)], actor=SYSTEM,
                             issue_date=today - timedelta(days=3))
        credit.record_payment(customer, 10000, method="cheque", reference="1042",
                              received_on=today - timedelta(days=1), actor=SYSTEM)
        db.session.commit()
        return customer.id


def today(app):
    with app.app_context():
        return farm_today()


def version_on(html):
    return re.search(r'name="terms-version" type="hidden" value="(\d+)"', html).group(1)


def signed_in(app, role):
    """A browser of its own, signed in as `role`: (client, auth)."""
    from tests.conftest import Auth

    client = app.test_client()
    auth = Auth(app, client)
    auth.sign_in(role)
    return client, auth


def tab(client, customer_id, **headers):
    return client.get(f"/customers/{customer_id}/credit", headers=headers)


def test_money_roles_see_the_account_and_sales_only_the_status(app, client, auth, owing):
    for role in ("admin", "manager", "finance"):
        html = tab(signed_in(app, role)[0], owing).text
        assert "$120.00" in html and "INV-" in html and "Balance" in html, role
        assert "$500.00" in html  # the limit
    auth.sign_in("sales")
    html = tab(client, owing).text
    assert "Credit status:" in html and "An invoice is overdue." in html
    assert not MONEY.search(html) and "INV-" not in html and "Record a payment" not in html


@pytest.mark.parametrize("role", ["delivery", "viewer", "grower"])
def test_roles_without_credit_get_no_tab(client, auth, owing, role):
    auth.sign_in(role)
    assert tab(client, owing).status_code == 403
    assert 'href="/customers/%d/credit"' % owing not in client.get(f"/customers/{owing}").text


@pytest.mark.parametrize("role", ["sales", "delivery", "viewer", "grower"])
def test_no_customer_page_shows_an_amount_to_a_role_that_may_not_see_money(app, client, auth,
                                                                          owing, role):
    assert [r for r in ROLES if r not in PERMISSIONS["credit.amounts"]] == [
        "sales", "delivery", "viewer", "grower"]  # every role that may not see money is tried here
    auth.sign_in(role)
    with app.app_context():
        tabs = list(registry().tabs.values())
    for t in tabs:
        if role not in PERMISSIONS[t.permission]:
            continue
        with app.test_request_context():
            from flask import url_for

            url = url_for(t.endpoint, customer_id=owing)
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, (role, url)
            assert not MONEY.search(response.text), (role, url, MONEY.findall(response.text))


def test_terms_refuse_bad_amounts_keep_what_was_typed_and_detect_a_stale_version(
        app, client, auth, owing):
    auth.sign_in("finance")
    url = f"/customers/{owing}/credit"
    version = version_on(client.get(f"{url}/forms/terms").text)
    for typed, message in (("-5", "at least $0.00"), ("12,50", "not an amount"),
                           ("12.505", "At most 2 decimals")):
        response = auth.post(f"{url}/terms", {"terms-credit_limit": typed,
                                              "terms-terms": "net30", "terms-version": version},
                             page=url, htmx=True)
        assert response.status_code == 422, typed
        assert message in response.text and f'value="{typed}"' in response.text
    with app.app_context():
        assert credit.get_account(owing).credit_limit == 50000
        db.session.commit()
    saved = auth.post(f"{url}/terms", {"terms-credit_limit": "", "terms-terms": "net30",
                                       "terms-version": version}, page=url, htmx=True)
    assert saved.status_code == 200 and "No limit" in saved.text and "Net 30" in saved.text
    stale = auth.post(f"{url}/terms", {"terms-credit_limit": "100", "terms-terms": "net7",
                                       "terms-version": version}, page=url, htmx=True)
    assert stale.status_code == 409 and "Someone else changed these terms" in stale.text
    with app.app_context():
        account = credit.get_account(owing)
        assert (account.credit_limit, account.terms) == (None, "net30")
        db.session.commit()


def test_a_limit_of_zero_is_not_no_limit(app, client, auth, owing):
    auth.sign_in("finance")
    url = f"/customers/{owing}/credit"
    response = auth.post(f"{url}/terms", {"terms-credit_limit": "0", "terms-terms": "net14",
                                          "terms-version": version_on(
                                              client.get(f"{url}/forms/terms").text)},
                         page=url, htmx=True)
    assert response.status_code == 200
    assert "over the limit of $0.00" in response.text and "New orders blocked" in response.text
    assert "<dt>Credit limit</dt><dd>$0.00</dd>" in response.text


def test_a_payment_sent_twice_is_recorded_once_and_more_than_owed_is_credit(app, client, auth,
                                                                           owing):
    auth.sign_in("finance")
    url = f"/customers/{owing}/credit"
    page = client.get(f"{url}/forms/payment", headers={"HX-Request": "true"}).text
    key = re.search(r'name="payment-form_key" type="hidden" value="([^"]+)"', page).group(1)
    data = {"payment-form_key": key, "payment-amount": "$1,000.00", "payment-method": "card",
            "payment-reference": "", "payment-received_on": today(app).isoformat()}
    first = auth.post(f"{url}/payments", data, page=f"{url}/forms/payment", htmx=True)
    assert first.status_code == 200 and "credit on account" in first.headers["HX-Trigger"]
    second = auth.post(f"{url}/payments", data, page=f"{url}/forms/payment", htmx=True)
    assert second.status_code == 204 and second.headers["HX-Redirect"] == url  # the first's
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 2  # + fixture's
        assert credit.balance(owing) == 12000 + 5000 - 10000 - 100000


@pytest.mark.parametrize("amount, message", [("0", "more than zero"), ("-3", "more than zero"),
                                             ("", "Enter the amount paid."),
                                             ("1e3", "not an amount")])
def test_bad_payments_are_refused_and_nothing_is_written(app, client, auth, owing, amount,
                                                         message):
    auth.sign_in("finance")
    url = f"/customers/{owing}/credit"
    response = auth.post(f"{url}/payments", {
        "payment-amount": amount, "payment-method": "cash",
        "payment-received_on": today(app).isoformat()},
        page=f"{url}/forms/payment", htmx=True)
    assert response.status_code == 422 and message in response.text
    future = auth.post(f"{url}/payments", {
        "payment-amount": "5", "payment-method": "cash",
        "payment-received_on": (today(app) + timedelta(days=2)).isoformat()},
        page=f"{url}/forms/payment", htmx=True)
    assert future.status_code == 422 and "cannot be received in the future" in future.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_a_hold_is_placed_with_a_reason_and_lifted(app, client, auth, owing):
    auth.sign_in("manager")
    url = f"/customers/{owing}/credit"
    refused = auth.post(f"{url}/hold", {"hold-reason": "  "}, page=url, htmx=True)
    assert refused.status_code == 422 and "Say why" in refused.text
    held = auth.post(f"{url}/hold", {"hold-reason": "Cheque bounced"}, page=url, htmx=True)
    assert "New orders blocked" in held.text and "Cheque bounced" in held.text
    sales, _ = signed_in(app, "sales")
    overview = sales.get(f"/customers/{owing}").text  # the Overview's credit card, in words
    assert "New orders blocked" in overview and "The account is on hold." in overview
    assert "Cheque bounced" not in overview and not MONEY.search(overview)
    lifted = auth.post(f"{url}/hold/lift", {}, page=url, htmx=True)
    assert lifted.status_code == 200 and "Lift the hold" not in lifted.text


def test_a_manual_invoice_is_checked_and_only_finance_may_invoice_anyway(app, owing):
    url = f"/customers/{owing}/credit"
    data = {"invoice-description": "Crates not returned", "invoice-amount": "600",
            "invoice-memo": "Six crates", "invoice-override": "Agreed with the chef"}
    _, manager = signed_in(app, "manager")  # manages credit, may not override
    refused = manager.post(f"{url}/invoices", data, page=f"{url}/forms/invoice", htmx=True)
    assert refused.status_code == 422 and "The credit check refuses this invoice" in refused.text
    assert "over the limit of $500.00" in refused.text
    _, finance = signed_in(app, "finance")
    made = finance.post(f"{url}/invoices", data, page=f"{url}/forms/invoice", htmx=True)
    assert made.status_code == 200 and "Invoice INV-" in made.headers["HX-Trigger"]


def test_the_tab_runs_as_many_statements_for_a_long_history_as_a_short_one(app, client, auth):
    with app.app_context():
        short, long = factories.customer("Fern Cafe"), factories.customer("Oak Bistro")
        today = farm_today()
        for customer, count in ((short, 5), (long, 60)):
            for i in range(count):
                credit.issue_invoice(customer, [("Pea shoots", 1, 600 + i)], actor=SYSTEM,
                                     issue_date=today - timedelta(days=count - i))
            credit.record_payment(customer, 1000, method="cash", received_on=today,
                                  actor=SYSTEM)
        db.session.commit()
        ids = short.id, long.id
    auth.sign_in("finance")
    counts = [queries_for(app, client, f"/customers/{i}/credit") for i in ids]
    assert counts[0] == counts[1]


def test_finance_writes_off_refunds_and_reverses_from_the_tab(app, client, auth, owing):
    auth.sign_in("finance")
    url = f"/customers/{owing}/credit"
    with app.app_context():
        [old, new] = credit.open_rows(owing)
        other = factories.customer("Oak Bistro")
        theirs = credit.issue_invoice(other, [("Pea", 1, 700)], actor=SYSTEM)
        db.session.commit()
        old_id, new_id, theirs_id = old.id, new.id, theirs.id
    wrong = auth.post(f"{url}/adjust", {"adjust-kind": "write_off",
                                        "adjust-invoice_id": str(theirs_id),
                                        "adjust-amount": "5", "adjust-memo": "x"},
                      page=url, htmx=True)
    assert wrong.status_code == 422 and "Choose one of this customer" in wrong.text
    too_much = auth.post(f"{url}/adjust", {"adjust-kind": "credit_note",
                                           "adjust-invoice_id": str(old_id),
                                           "adjust-amount": "25", "adjust-memo": "Wilted"},
                         page=url, htmx=True)
    assert too_much.status_code == 422 and "has only $20.00 open" in too_much.text
    noted = auth.post(f"{url}/adjust", {"adjust-kind": "credit_note",
                                        "adjust-invoice_id": str(old_id),
                                        "adjust-amount": "20", "adjust-memo": "Wilted"},
                      page=url, htmx=True)
    assert noted.status_code == 200 and "Credit note on INV-" in noted.headers["HX-Trigger"]
    with app.app_context():
        assert credit.balance(owing) == 17000 - 10000 - 2000
        note = db.session.scalar(select(credit.LedgerEntry).where(
            credit.LedgerEntry.kind == "credit_note"))
        note_id = note.id
    reverse = f"{url}/entries/{note_id}/reverse"
    assert "Reverse it" in client.get(reverse).text
    refused = auth.post(reverse, {"memo": ""}, page=reverse)
    assert refused.status_code == 422 and "Say why it is reversed." in refused.text
    assert auth.post(reverse, {"memo": "Entered twice"}, page=reverse).status_code == 303
    again = auth.post(reverse, {"memo": "Again"}, page=reverse)
    assert again.status_code == 422 and "already been reversed" in again.text
    with app.app_context():
        assert credit.balance(owing) == 7000
    no_credit = auth.post(f"{url}/refund", {"refund-payment_id": "", "refund-amount": "5",
                                            "refund-memo": "x"}, page=url, htmx=True)
    assert no_credit.status_code == 422 and "Choose one of this customer" in (
        no_credit.text)
    _, manager = signed_in(app, "manager")
    assert manager.post(f"{url}/adjust", {}, page=url).status_code == 403
    assert new_id


def test_a_payment_can_pay_a_chosen_invoice_first(app, client, auth, owing):
    auth.sign_in("finance")
    url = f"/customers/{owing}/credit"
    with app.app_context():
        [old, new] = credit.open_rows(owing)
        old_id, new_id = old.id, new.id
    assert (old.open, new.open) == (2000, 5000)
    paid = auth.post(f"{url}/payments", {
        "payment-amount": "50", "payment-method": "card", "payment-first": str(new_id),
        "payment-received_on": today(app).isoformat()},
        page=f"{url}/forms/payment", htmx=True)
    assert paid.status_code == 200
    with app.app_context():
        assert credit.open_amounts([old_id, new_id]) == {old_id: 2000, new_id: 0}
    wrong = auth.post(f"{url}/payments", {
        "payment-amount": "5", "payment-method": "card", "payment-first": str(new_id),
        "payment-received_on": today(app).isoformat()},
        page=f"{url}/forms/payment", htmx=True)
    assert wrong.status_code == 422 and "open invoices, or none" in wrong.text


def test_a_manual_invoice_due_before_it_is_issued_is_refused(app, owing):
    _, finance = signed_in(app, "finance")
    url = f"/customers/{owing}/credit"
    response = finance.post(f"{url}/invoices", {
        "invoice-description": "Crates", "invoice-amount": "12.50", "invoice-memo": "Six",
        "invoice-due_date": (today(app) - timedelta(days=1)).isoformat()},
        page=f"{url}/forms/invoice", htmx=True)
    assert response.status_code == 422 and "cannot be before the issue date" in response.text
    assert 'value="12.50"' in response.text and 'value="Crates"' in response.text
    with app.app_context():
        assert len(credit.open_rows(owing)) == 2  # nothing written


def test_the_forms_are_folded_and_fetched_when_opened(app, client, auth, owing):
    auth.sign_in("finance")
    url = f"/customers/{owing}/credit"
    html = client.get(url).text
    assert 'id="payment-form"' not in html  # no form built until its fold is opened
    for name in ("terms", "hold", "payment", "invoice", "adjust", "refund"):
        assert f'hx-get="{url}/forms/{name}"' in html, name
        assert f'<a href="{url}/forms/{name}#{name}-form">Open the form</a>' in html
    fragment = client.get(f"{url}/forms/payment", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<form id="payment-form"') and "<html" not in fragment
    page = client.get(f"{url}/forms/refund").text  # without JavaScript: the tab, it unfolded
    assert re.search(r'<details class="card credit-form" open>\s*<summary>Refund</summary>',
                     page) and 'id="credit-ledger"' in page
    _, manager = signed_in(app, "manager")  # manages credit, may not adjust it
    assert 'forms/refund"' not in manager.client.get(url).text
    assert manager.client.get(f"{url}/forms/refund").status_code == 403
    sales, _ = signed_in(app, "sales")
    assert sales.get(f"{url}/forms/payment").status_code == 403
