"""CSV import of open invoices and opening balances: the checks per row, the writes through
the credit services (the ledger agrees afterwards: the suite's conftest verifies it after
every test), already imported rows skipped, the CLI, and the pages."""
import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from crm.common import SYSTEM, farm_today
from crm.credit import importing
from crm.credit import services as credit
from crm.credit.models import Invoice, LedgerEntry, Payment
from crm.customers.services import set_archived
from crm.extensions import db
from tests import factories

HEADER = "customer,kind,number,issue_date,due_date,amount,paid"


def days_ago(n: int) -> str:
    return (farm_today() - timedelta(days=n)).isoformat()


def written() -> dict:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Invoice, Payment, LedgerEntry)}


NOTHING = {"Invoice": 0, "Payment": 0, "LedgerEntry": 0}


@pytest.fixture
def fern(app_ctx):
    return factories.customer("Fern Cafe")


@pytest.fixture
def heron(app_ctx):
    return factories.customer("Blue Heron Bistro")


def run(text: str, actor=SYSTEM):
    plan = importing.check(importing.read(text.encode()))
    if not plan.refused:
        importing.apply(plan, actor=actor)
        db.session.commit()
    return plan


def test_a_good_file_imports_invoices_with_their_paid_parts_and_the_balances_match(
        fern, heron):
    other = factories.customer("Sprout & Co")
    text = "\n".join([
        HEADER,
        f"{fern.number},invoice,A-100,{days_ago(40)},{days_ago(10)},120.00,20.00",
        f"{fern.number},,A-101,{days_ago(5)},,\"$1,000.50\",",
        f"blue  heron bistro,invoice,7,{days_ago(3)},{days_ago(1)},50,50",
        f"{heron.number},balance,,{days_ago(60)},,30.25,",
        f"{other.number},balance,OB-1,{days_ago(60)},,-15.00,",
    ]) + "\n"
    plan = run(text)
    assert plan.counts == {"rows": 5, "imported": 5, "skipped": 0, "errors": 0}
    assert credit.balance(fern.id) == 12000 - 2000 + 100050
    assert credit.balance(heron.id) == 5000 - 5000 + 3025
    assert credit.balance(other.id) == -1500
    assert credit.verify() == {}
    invoices = db.session.scalars(select(Invoice).order_by(Invoice.id)).all()
    numbers = [i.number for i in invoices]
    assert len(set(numbers)) == 4 and all(re.fullmatch(r"INV-\d{4}-\d{5}", n) for n in numbers)
    assert [i.memo for i in invoices] == ["Imported: A-100", "Imported: A-101", "Imported: 7",
                                          "Imported: opening balance"]
    first, second, paid_in_full, balance_invoice = invoices
    assert first.due_date.isoformat() == days_ago(10)
    assert second.due_date == second.issue_date + timedelta(days=14)  # the default terms
    assert first.lines[0].description == "Invoice A-100 (imported)"
    assert balance_invoice.lines[0].description == "Opening balance"
    opened = {row.id: row.open for row in credit.open_rows(fern.id)}
    assert opened == {first.id: 10000, second.id: 100050}
    assert [(r.id, r.open) for r in credit.open_rows(heron.id)] == [(balance_invoice.id, 3025)]
    [credit_payment] = db.session.scalars(select(Payment).where(
        Payment.customer_id == other.id)).all()
    assert (credit_payment.method, credit_payment.reference) == (
        "bank_transfer", "Imported: opening balance OB-1")
    report = list(csv.reader(io.StringIO(importing.report_csv(plan))))
    assert report[0] == list(importing.REPORT_COLUMNS)
    assert [r[1] for r in report[1:]] == ["imported"] * 5
    assert report[1][2] == fern.number and report[1][5] == first.number
    assert "Fern" not in importing.report_csv(plan)  # numbers, not names


def test_the_same_file_twice_imports_nothing_the_second_time(fern):
    text = f"{HEADER}\n{fern.number},,A-1,{days_ago(9)},,10,\n{fern.number},balance,,,,5,\n"
    assert run(text).counts["imported"] == 2
    before = written()
    again = run(text)
    assert again.counts == {"rows": 2, "imported": 0, "skipped": 2, "errors": 0}
    assert written() == before
    assert [r.message for r in again.rows] == [
        f"This invoice was imported already, as {db.session.scalars(select(Invoice.number)).first()}.",
        "This opening balance was imported already, as "
        f"{db.session.scalars(select(Invoice.number).order_by(Invoice.id.desc())).first()}."]
    # a different amount under the same number is still skipped, and says so
    changed = run(f"{HEADER}\n{fern.number},,a-1,{days_ago(9)},,11,\n")
    assert changed.counts["skipped"] == 1
    assert "Its amount here is different" in changed.rows[0].message


def test_a_negative_opening_balance_imported_once(fern):
    text = f"{HEADER}\n{fern.number},balance,,{days_ago(2)},,-7.50,\n"
    run(text)
    assert run(text).counts["skipped"] == 1
    assert credit.balance(fern.id) == -750


@pytest.mark.parametrize("row, column, message", [
    ("CUST-99999,,X1,{d},,10,", "customer", "No customer has this number."),
    ("Nowhere Diner,,X1,{d},,10,", "customer", "No customer has this exact name"),
    (",,X1,{d},,10,", "customer", "Give the customer's number"),
    ("{n},gift,X1,{d},,10,", "kind", "Not a kind of row: use invoice or balance."),
    ("{n},,,{d},,10,", "number", "An invoice needs the number it had"),
    ("{n},,X1,soon,,10,", "issue_date", "Not a date: write it as 2026-03-15 (or 3/15/2026)."),
    ("{n},,X1,2025-02-30,,10,", "issue_date", "No such day."),
    ("{n},,X1,,,10,", "issue_date", "An invoice needs its issue date."),
    ("{n},,X1,{future},,10,", "issue_date", "The issue date is in the future"),
    ("{n},,X1,{d},{before},10,", "due_date", "The due date is before the issue date."),
    ("{n},,X1,{d},,0,", "amount", "An invoice must be for more than zero."),
    ("{n},,X1,{d},,-3,", "amount", "An invoice must be for more than zero"),
    ("{n},balance,,{d},,0,", "amount", "Zero: nothing to import."),
    ("{n},,X1,{d},,,", "amount", "Enter an amount."),
    ("{n},,X1,{d},,\"12,50\",", "amount", "Not an amount. Write it like 12.50, with '.' before"),
    ("{n},,X1,{d},,12.505,", "amount", "At most 2 decimals in USD."),
    ("{n},,X1,{d},,ten,", "amount", "Not an amount."),
    ("{n},,X1,{d},,10,12", "paid", "More is paid than the amount."),
    ("{n},,X1,{d},,10,-1", "paid", "Paid cannot be negative."),
    ("{n},,X1,{d},,10,1.001", "paid", "At most 2 decimals in USD."),
    ("{n},balance,,{d},,-10,2", "paid", "A credit balance has nothing paid on it"),
    ("{n},,X1,{d},,10,,extra", "row", "This line has 8 cells but the header has 7"),
])
def test_each_bad_row_says_why_and_nothing_is_written(fern, row, column, message):
    good = f"{fern.number},,G1,{days_ago(3)},,10,"
    bad = row.format(n=fern.number, d=days_ago(3), future=(farm_today() + timedelta(1)).isoformat(),
                     before=days_ago(4))
    plan = importing.check(importing.read(f"{HEADER}\n{good}\n{bad}\n".encode()))
    assert plan.refused and plan.counts == {"rows": 2, "imported": 0, "skipped": 0, "errors": 1}
    [wrong] = [r for r in plan.rows if not r.valid]
    assert wrong.line == 3
    assert any(m.startswith(message) for m in wrong.errors[column]), wrong.errors
    assert "12,50" not in wrong.message and "Nowhere" not in wrong.message  # no values quoted
    with pytest.raises(importing.ImportRefused):
        importing.apply(plan, actor=SYSTEM)
    db.session.rollback()
    assert written() == NOTHING
    report = importing.report_csv(plan)
    assert "not imported" in report and "error" in report


def test_customers_named_twice_archived_or_repeated_in_the_file_are_errors(fern, heron):
    twin = factories.customer("Fern Cafe")
    gone = factories.customer("Old Mill")
    set_archived(gone, True, actor=SYSTEM)
    db.session.commit()
    d = days_ago(5)
    text = "\n".join([
        HEADER,
        f"Fern Cafe,,F1,{d},,10,",
        f"{gone.number},,G1,{d},,10,",
        f"old mill,,G2,{d},,10,",
        f"{heron.number},,H1,{d},,10,",
        f"{heron.number},,h1,{d},,12,",
        f"{heron.number},balance,,{d},,5,",
        f"Blue Heron Bistro,balance,OB,{d},,6,",
        f"{fern.number},,H1,{d},,10,",  # the same old number at another customer: fine
    ]) + "\n"
    plan = importing.check(importing.read(text.encode()))
    errors = {r.line: r.error_text for r in plan.rows if not r.valid}
    assert errors == {
        2: f"Customer: 2 customers have this name ({fern.number}, {twin.number}): give the "
           "number instead.",
        3: "Customer: This customer is archived: restore it first, or leave the row out.",
        4: "Customer: This customer is archived: restore it first, or leave the row out.",
        6: "Number: Line 5 has this number for this customer too: an invoice is one row.",
        8: "Kind: Line 7 gives this customer's opening balance already: a customer has one.",
    }
    assert plan.refused and written() == NOTHING


def test_dates_as_the_locale_writes_them_and_a_balance_only_file(fern):
    issued = farm_today() - timedelta(days=20)
    us = f"{issued.month}/{issued.day}/{issued.year}"
    text = f"Customer,Invoice No,Invoice Date,Total,Notes\n{fern.number},B7,{us},9.99,hello\n"
    parsed = importing.read(text.encode())
    assert parsed.ignored == ["Notes"]
    [row] = importing.check(parsed).rows
    assert row.valid and row.data["issue_date"] == issued and row.data["kind"] == "invoice"
    balances = importing.read(f"Account,Opening balance\n{fern.number},-4\n".encode())
    [row] = importing.check(balances).rows
    assert row.valid and row.data["kind"] == "balance" and row.data["issue_date"] == farm_today()


def test_files_that_cannot_be_used_say_why():
    for text, message in [
        ("number,amount\nA,1\n", "No column is read as Customer."),
        ("customer,amount,total\nx,1,2\n", "Two columns are both read as Amount"),
        ("customer,amount\n", "The file has a header line but no rows."),
    ]:
        with pytest.raises(importing.ImportFileError, match=re.escape(message)):
            importing.read(text.encode())
    with pytest.raises(importing.ImportFileError, match="KB at most"):
        importing.read(b"customer,amount\n" + b"x,1\n" * 70_000)


def test_a_payment_already_on_the_account_pays_the_imported_invoice_first(fern, staff):
    credit.record_payment(fern, 500, method="cash", received_on=farm_today(), actor=staff)
    db.session.commit()
    plan = run(f"{HEADER}\n{fern.number},,Z1,{days_ago(3)},,10,8\n")
    assert credit.balance(fern.id) == 1000 - 500 - 800
    assert "5.00 of it paid from credit already on the account" in plan.rows[0].message
    assert "3.00 of it left as credit on account" in plan.rows[0].message


# -- the command line ---------------------------------------------------------------------

def test_the_cli_dry_run_writes_nothing_and_the_import_then_writes(app, runner, tmp_path, fern):
    path = tmp_path / "open.csv"
    path.write_text(f"{HEADER}\n{fern.number},,A-1,{days_ago(3)},,25.00,5\n", encoding="utf-8")
    result = runner.invoke(args=["credit", "import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing was written." in result.output
    assert "Would import 1 invoice and 0 opening balances for 1 customer: $20.00 owed more." \
        in result.output
    assert written() == NOTHING
    report = tmp_path / "report.csv"
    result = runner.invoke(args=["credit", "import", str(path), "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "rows: 1, imported: 1, skipped: 0, errors: 0" in result.output
    assert credit.balance(fern.id) == 2000
    assert "imported" in report.read_text()
    again = runner.invoke(args=["credit", "import", str(path)])
    assert again.exit_code == 0 and "imported: 0, skipped: 1" in again.output


def test_the_cli_says_each_rows_error_without_names_and_exits_1(runner, tmp_path, fern):
    path = tmp_path / "bad.csv"
    path.write_text(f"{HEADER}\n{fern.number},,A-1,{days_ago(3)},,25.00,\n"
                    f"Nowhere Diner,,A-2,{days_ago(3)},,12.505,\n", encoding="utf-8")
    result = runner.invoke(args=["credit", "import", str(path)])
    assert result.exit_code == 1
    assert "line 3: customer: No customer has this exact name" in result.output
    assert "line 3: amount: At most 2 decimals in USD." in result.output
    assert "Nothing was imported: 1 row with errors." in result.output
    assert "Nowhere" not in result.output and "Fern" not in result.output
    assert written() == NOTHING
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert runner.invoke(args=["credit", "import", str(empty)]).exit_code == 2


# -- the pages ------------------------------------------------------------------------------

def upload(auth, data: str, name="open.csv", htmx=False):
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data.encode()), name,
                                                           content_type="text/csv")})
    return auth.post("/credit/import", body, page="/credit/import", htmx=htmx,
                     content_type=f"multipart/form-data; boundary={boundary}")


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match, f"no {name} on the page"
    return match.group(1)


@pytest.mark.parametrize("role, status", [("admin", 200), ("manager", 200), ("finance", 200),
                                          ("sales", 403), ("viewer", 403)])
def test_only_those_who_manage_credit_import(client, auth, role, status):
    auth.sign_in(role)
    assert client.get("/credit/import").status_code == status


def test_the_credit_page_links_to_the_import(client, auth):
    auth.sign_in("finance")
    assert 'href="/credit/import"' in client.get("/credit").text


def test_upload_preview_import_and_report_on_the_web(app, client, auth):
    with app.app_context():
        fern = factories.customer("Fern Cafe")
        number, fern_id = fern.number, fern.id
        text = (f"{HEADER}\n{number},,A-1,{days_ago(30)},,40.00,10\n"
                f"{number},balance,,{days_ago(90)},,5,\n")
    auth.sign_in("finance")
    page = upload(auth, text)
    assert page.status_code == 200, page.text
    html = page.text
    assert "<dt>Rows</dt><dd>2</dd>" in html and "Import 2 rows" in html
    assert "Fern Cafe" in html  # the customer found, shown to who may see it
    assert "A-1" in html and "UTF-8, comma-separated" in html
    with app.app_context():
        assert written() == NOTHING  # the preview writes nothing
    sealed = hidden(html, "sealed")
    done = client.post("/credit/import/run", data={"sealed": sealed, "filename": "open.csv",
                                                   "csrf_token": hidden(html, "csrf_token")})
    assert done.status_code == 200, done.text
    assert "Imported 2 rows" in done.text
    with app.app_context():
        assert credit.balance(fern_id) == 4000 - 1000 + 500
    report = client.post("/credit/import/report.csv", data={
        "sealed": hidden(done.text, "sealed"), "csrf_token": hidden(done.text, "csrf_token")})
    assert report.status_code == 200 and report.mimetype == "text/csv"
    assert "attachment" in report.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(report.text.lstrip("\ufeff"))))
    assert [r[1] for r in lines[1:]] == ["imported", "imported"]
    # sent again (a double click, a reload): nothing more
    again = client.post("/credit/import/run", data={"sealed": sealed, "filename": "open.csv",
                                                    "csrf_token": hidden(html, "csrf_token")})
    assert again.status_code == 200 and "Nothing was imported" in again.text
    with app.app_context():
        assert credit.balance(fern_id) == 3500


def test_the_web_import_needs_csrf_and_its_own_sealed_file(app, client, auth):
    with app.app_context():
        text = f"{HEADER}\n{factories.customer('Fern Cafe').number},,A-1,{days_ago(3)},,4,\n"
    auth.sign_in("finance")
    html = upload(auth, text).text
    sealed = hidden(html, "sealed")
    assert client.post("/credit/import/run", data={"sealed": sealed}).status_code == 400
    tampered = client.post("/credit/import/run", data={
        "sealed": sealed[:-4] + "AAAA", "csrf_token": hidden(html, "csrf_token")})
    assert tampered.status_code == 422 and "upload the file again" in tampered.text
    with app.app_context():
        assert written() == NOTHING


def test_a_file_with_errors_shows_them_and_cannot_be_imported(app, client, auth):
    with app.app_context():
        text = (f"{HEADER}\n{factories.customer('Fern Cafe').number},,A-1,{days_ago(3)},,4,1\n"
                "Nowhere,,A-2,someday,,4,9\n")
    auth.sign_in("manager")
    response = upload(auth, text, htmx=True)
    assert response.status_code == 200 and "<html" not in response.text
    html = response.text
    assert "More is paid than the amount." in html and "Not a date" in html
    assert "nothing can be imported" in html
    assert 'action="/credit/import/run"' in html and "Import 1 row" not in html
    assert html.index('<th scope="row" class="num">3</th>') < html.index(
        '<th scope="row" class="num">2</th>')  # errors first
    bad = upload(auth, "just,words\nx,y\n")
    assert bad.status_code == 422 and "No column is read as Customer or Amount" in bad.text


def test_a_file_imported_meanwhile_is_skipped_when_the_first_plan_is_written(fern):
    text = f"{HEADER}\n{fern.number},,A-1,{days_ago(9)},,10,\n"
    first = importing.check(importing.read(text.encode()))
    run(text)  # another request imported the same file after `first` was checked
    importing.apply(first, actor=SYSTEM)
    db.session.commit()
    assert first.counts == {"rows": 1, "imported": 0, "skipped": 1, "errors": 0}
    assert first.rows[0].message.startswith("Imported meanwhile, as INV-")
    assert credit.balance(fern.id) == 1000


def test_the_htmx_import_answers_with_the_component(app, client, auth):
    with app.app_context():
        text = f"{HEADER}\n{factories.customer('Fern Cafe').number},,A-1,{days_ago(3)},,4,\n"
    auth.sign_in("admin")
    form = client.get("/credit/import").text
    assert "256 KB and 5,000 rows at most" in form
    html = upload(auth, text, htmx=True).text
    assert html.startswith('<div id="credit-import"') or 'id="credit-import"' in html[:200]
    done = client.post("/credit/import/run", headers={"HX-Request": "true"}, data={
        "sealed": hidden(html, "sealed"), "csrf_token": hidden(html, "csrf_token")})
    assert done.status_code == 200 and "<html" not in done.text
    assert "Imported 1 row of" in done.text and "Download the report (CSV)" in done.text
