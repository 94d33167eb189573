"""Invoices, payments, allocations and adjustments write the one ledger; a balance is its sum
and agrees with the documents (tests/conftest.py checks that after every test)."""
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DatabaseError

from crm.common import SYSTEM, farm_today
from crm.credit import services as credit
from crm.credit.models import Invoice, LedgerEntry
from crm.credit.services import CreditError
from crm.extensions import db
from tests import factories


def invoice(customer, total, staff, days_ago=0, terms_days=None):
    issued = farm_today() - timedelta(days=days_ago)
    due = issued + timedelta(days=terms_days) if terms_days is not None else None
    made = credit.issue_invoice(customer, [("Pea shoots 4 oz", 1, total)], actor=staff,
                                issue_date=issued, due_date=due)
    db.session.commit()
    return made


def test_invoice_numbers_are_gap_free_per_year_and_a_rollback_gives_its_number_back(
        app_ctx, staff):
    customer = factories.customer("Fern Cafe")
    first = invoice(customer, 1000, staff)
    credit.issue_invoice(customer, [("Sunflower", 1, 500)], actor=staff)
    db.session.rollback()  # that number was never used
    second = invoice(customer, 2000, staff)
    year = farm_today().year
    assert (first.number, second.number) == (f"INV-{year}-00001", f"INV-{year}-00002")
    last_year = credit.issue_invoice(customer, [("Kale", 1, 100)], actor=staff,
                                     issue_date=farm_today().replace(year=year - 1))
    assert last_year.number == f"INV-{year - 1}-00001"
    db.session.commit()


def test_due_date_follows_the_terms(app_ctx, staff):
    customer = factories.customer("Fern Cafe")
    credit.set_terms(customer, credit_limit=None, terms="net30", version=None, actor=staff)
    made = invoice(customer, 1000, staff)
    assert (made.due_date - made.issue_date).days == 30 and made.terms == "net30"
    with pytest.raises(CreditError, match="due date cannot be before"):
        credit.issue_invoice(customer, [("x", 1, 100)], actor=staff, issue_date=farm_today(),
                             due_date=farm_today() - timedelta(days=1))
    db.session.rollback()


def test_a_payment_pays_the_oldest_invoices_first_and_the_rest_is_credit(app_ctx, staff):
    customer = factories.customer("Fern Cafe")
    old = invoice(customer, 3000, staff, days_ago=20)
    new = invoice(customer, 2000, staff, days_ago=5)
    credit.record_payment(customer, 4000, method="cheque", reference="1042",
                          received_on=farm_today(), actor=staff)
    db.session.commit()
    assert credit.open_amounts([old.id, new.id]) == {old.id: 0, new.id: 1000}
    assert credit.balance(customer.id) == 1000
    credit.record_payment(customer, 1500, method="cash", received_on=farm_today(), actor=staff)
    db.session.commit()
    assert credit.balance(customer.id) == -500  # 5.00 credit on account
    assert credit.credit_on_account(customer.id) == 500
    later = invoice(customer, 800, staff)  # paid at once from the credit
    assert credit.open_amounts([later.id]) == {later.id: 300}
    assert credit.balance(customer.id) == 300


def test_allocating_by_hand_refuses_too_much_and_other_customers_invoices(app_ctx, staff):
    fern, oak = factories.customer("Fern Cafe"), factories.customer("Oak Bistro")
    mine = invoice(fern, 1000, staff, days_ago=10)
    later = invoice(fern, 3000, staff)
    theirs = invoice(oak, 1000, staff)
    payment = credit.record_payment(fern, 1500, method="card", received_on=farm_today(),
                                    actor=staff, allocations={later.id: 1000})
    db.session.commit()  # the invoice picked first, the rest to the oldest
    assert credit.open_amounts([mine.id, later.id]) == {mine.id: 500, later.id: 2000}
    for entry in db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "allocation")):
        credit.reverse(entry, memo="To allocate again", actor=staff)
    db.session.commit()
    assert credit.unapplied(payment.id) == 1500
    for wanted, message in (({theirs.id: 100}, "not this customer's"),
                            ({mine.id: 1100}, r"has only \$10.00 open"),
                            ({mine.id: 1000, later.id: 600}, r"Only \$15.00 of this payment"),
                            ({mine.id: -1}, "cannot be negative")):
        with pytest.raises(CreditError, match=message):
            credit.allocate(payment, wanted, actor=staff)
        db.session.rollback()
    credit.allocate(payment, {mine.id: 1000}, actor=staff)
    db.session.commit()
    assert credit.open_amounts([mine.id])[mine.id] == 0 and credit.unapplied(payment.id) == 500
    third = invoice(fern, 2000, staff)  # issued: the credit left goes to the oldest open one
    assert credit.open_amounts([later.id, third.id]) == {later.id: 2500, third.id: 2000}
    assert credit.unapplied(payment.id) == 0


def test_write_offs_credit_notes_refunds_and_one_reversal(app_ctx, staff):
    customer = factories.customer("Fern Cafe")
    bill = invoice(customer, 1000, staff)
    note = credit.settle_invoice(bill, 300, kind="credit_note", memo="Wilted", actor=staff)
    db.session.commit()
    assert credit.balance(customer.id) == 700
    credit.reverse(note, memo="Entered twice", actor=staff)
    db.session.commit()
    assert credit.balance(customer.id) == 1000
    with pytest.raises(CreditError, match="already been reversed"):
        credit.reverse(note, memo="again", actor=staff)
    db.session.rollback()
    payment = credit.record_payment(customer, 1500, method="bank_transfer",
                                    received_on=farm_today(), actor=staff)
    db.session.commit()
    assert credit.balance(customer.id) == -500
    with pytest.raises(CreditError, match=r"Only \$5.00"):
        credit.refund(payment, 600, memo="", actor=staff)
    db.session.rollback()
    credit.refund(payment, 500, memo="Closing the account", actor=staff)
    db.session.commit()
    assert credit.balance(customer.id) == 0
    with pytest.raises(CreditError, match="has only \\$0.00 open"):
        credit.settle_invoice(bill, 1, kind="write_off", memo="x", actor=staff)
    db.session.rollback()


def test_the_ledger_refuses_updates_and_deletes_in_the_orm_and_in_the_database(app_ctx, staff):
    customer = factories.customer("Fern Cafe")
    invoice(customer, 1000, staff)
    entry = db.session.scalar(select(LedgerEntry))
    entry.amount = 1
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    for statement in (update(LedgerEntry).values(amount=1),
                      text("DELETE FROM ledger_entry")):
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(statement)
        db.session.rollback()
    assert credit.balance(customer.id) == 1000


def test_aging_buckets_always_add_up_with_backdated_and_future_invoices(app_ctx, staff):
    customer = factories.customer("Fern Cafe")
    today = farm_today()
    for days_ago, due_in in ((0, 14), (-10, 14), (20, 10), (45, 0), (75, 0), (200, 30), (31, 0)):
        invoice(customer, 100 + days_ago, staff, days_ago=days_ago, terms_days=due_in)
    result = credit.aging(customer.id, today)
    assert sum(result["buckets"].values()) == result["total"] == credit.balance(customer.id)
    assert result["buckets"]["current"] == 100 + 90  # due today and not yet issued
    assert result["buckets"]["1-30"] == 120 and result["buckets"]["31-60"] == 145 + 131
    assert result["buckets"]["61-90"] == 175 and result["buckets"]["90+"] == 300
    boundaries = {credit.bucket_of(today - timedelta(days=d), today)
                  for d in (0, 1, 30, 31, 60, 61, 90, 91)}
    assert boundaries == {"current", "1-30", "31-60", "61-90", "90+"}


def test_verify_names_a_customer_whose_books_disagree(app, app_ctx, staff, runner):
    customer = factories.customer("Fern Cafe")
    invoice(customer, 1000, staff)
    assert credit.verify() == {}
    result = runner.invoke(args=["credit", "verify"])
    assert result.exit_code == 0 and "agree" in result.output
    db.session.execute(update(Invoice).values(total=900))  # behind the ledger's back
    db.session.commit()
    problems = credit.verify()
    assert list(problems) == [customer.id] and "total 900, ledger 1000" in problems[customer.id][0]
    result = runner.invoke(args=["credit", "verify"])
    assert result.exit_code == 1 and customer.number in result.output
    db.session.execute(update(Invoice).values(total=1000))  # put right for the suite's check
    db.session.commit()


def test_an_invoice_is_marked_settled_and_open_again_as_its_entries_say(app_ctx, staff):
    """The mark the open invoices are read by follows every entry that settles or reopens an
    invoice, and verify names an invoice whose mark was changed behind the ledger's back."""
    customer = factories.customer("Fern Cafe")
    first, second = invoice(customer, 1000, staff), invoice(customer, 500, staff)
    credit.record_payment(customer, 1200, method="cheque", reference="1001",
                         received_on=farm_today(), actor=staff)
    db.session.commit()
    marked = dict(db.session.execute(select(Invoice.number, Invoice.settled)).all())
    assert marked == {first.number: True, second.number: False}
    assert [(r.number, r.open) for r in credit.open_rows(customer.id)] == [(second.number, 300)]
    allocation = db.session.scalar(select(LedgerEntry).where(
        LedgerEntry.kind == "allocation", LedgerEntry.invoice_id == first.id))
    credit.reverse(allocation, memo="Cheque was for the other kitchen", actor=staff)
    db.session.commit()
    assert db.session.get(Invoice, first.id).settled is False
    assert {r.number for r in credit.open_rows(customer.id)} == {first.number, second.number}
    db.session.execute(update(Invoice).where(Invoice.id == second.id).values(settled=True))
    db.session.commit()
    problems = credit.verify()
    assert problems == {customer.id: [f"{second.number}: marked settled, the ledger says open"]}
    db.session.execute(update(Invoice).where(Invoice.id == second.id).values(settled=False))
    db.session.commit()


def test_the_money_filter_refuses_a_role_that_may_not_see_money(app, auth):
    from flask import render_template_string
    from flask_login import login_user

    from crm.auth.models import StaffUser

    for role, shown in (("finance", "$1,234.50"), ("sales", None), ("delivery", None)):
        auth.make_user(role)
        with app.test_request_context():
            user = db.session.scalars(select(StaffUser).where(StaffUser.role == role)).first()
            login_user(user)
            if shown:
                assert render_template_string("{{ 123450|money }}") == shown
            else:
                with pytest.raises(PermissionError):
                    render_template_string("{{ 123450|money }}")


def test_a_customer_with_books_is_never_merged_away(app, client, auth):
    from tests.contacts.test_merge import merge_form

    auth.sign_in("manager")
    with app.app_context():
        fern, oak = factories.customer("Fern Cafe"), factories.customer("Fern Café")
        credit.issue_invoice(fern, [("Pea shoots", 1, 600)], actor=SYSTEM)
        credit.set_terms(oak, credit_limit=100, terms="net7", version=None, actor=SYSTEM)
        db.session.commit()
        ids = fern.id, oak.id
    _, form = merge_form(client, "customer", *ids)
    refused = client.post(f"/merge/customer/{ids[0]}/{ids[1]}", data={**form, "survivor": "b"})
    assert refused.status_code == 422 and "books stay with it" in refused.text
    _, form = merge_form(client, "customer", *ids)
    kept = client.post(f"/merge/customer/{ids[0]}/{ids[1]}", data={**form, "survivor": "a"})
    assert kept.status_code == 303
    with app.app_context():
        assert credit.balance(ids[0]) == 600 and credit.get_account(ids[0]).credit_limit is None
        db.session.commit()
