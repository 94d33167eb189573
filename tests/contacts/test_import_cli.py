"""`flask contacts import FILE`: the summary line, exit codes, policies and every bad input."""
import csv

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.contacts.models import Contact, ContactEmail, CustomerContact
from crm.customers.models import Address, Customer
from crm.customers.services import search_customers
from crm.extensions import db
from crm.security.blind_index import email_index
from tests import factories

HEADER = ("customer_name,customer_kind,first_name,last_name,email,phone,role,street,city,"
          "region,postal_code,country,notes")


def write(tmp_path, text, name="people.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return str(path)


def run(runner, path, *options):
    result = runner.invoke(args=["contacts", "import", path, *options])
    return result, result.output.strip().splitlines()


def counts(app):
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Customer, Contact, CustomerContact, ContactEmail, Address))


def report_rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


CLEAN = f"""{HEADER}
Little Fern Kitchen,restaurant,ana,GARCIA,Ana.Garcia@Fern.example.com,(312) 555-0101,ordering,12 N Clark St,Chicago,il,60614,US,Back door
Little Fern Kitchen,,Ben,Okafor,ben@fern.example.com,,,,,,,,
Maria Lopez,CSA member,Maria,Lopez,,+44 20 7946 0958,,,,,,,
"""


def test_a_clean_file_is_imported_and_ends_with_the_summary_line(app, runner, tmp_path):
    result, lines = run(runner, write(tmp_path, CLEAN))
    assert result.exit_code == 0, result.output
    assert lines[-1] == "rows: 3, created: 3, updated: 0, duplicates: 0, errors: 0"
    with app.app_context():
        fern = db.session.scalars(select(Customer).order_by(Customer.id)).first()
        assert (fern.name, fern.kind, fern.status) == ("Little Fern Kitchen", "restaurant",
                                                       "active")
        assert fern.notes == "Back door"
        place = fern.addresses[0]
        assert (place.street, place.city, place.region, place.postal_code, place.country) == (
            "12 N Clark St", "Chicago", "IL", "60614", "US")
        people = {l.contact.full_name: l for l in fern.contact_links}
        assert set(people) == {"Ana Garcia", "Ben Okafor"}
        ana = people["Ana Garcia"]
        assert ana.role == "ordering" and people["Ben Okafor"].role == "primary"
        assert ana.contact.emails[0].email == "ana.garcia@fern.example.com"
        assert ana.contact.phones[0].phone == "+13125550101"
        maria = db.session.scalar(select(Customer).where(Customer.kind == "csa_member"))
        assert maria.contact_links[0].contact.phones[0].phone == "+442079460958"
        found, _ = search_customers(q="fern kit")  # name-search tokens were written
        assert [c.id for c in found] == [fern.id]
        actions = db.session.execute(select(AuditEvent.action, AuditEvent.entity_type)).all()
        assert actions.count(("create", "customer")) == 2
        assert actions.count(("create", "contact")) == 3
        assert ("import", "contact_import") in actions


def test_any_row_with_an_error_imports_nothing_and_exits_1(app, runner, tmp_path):
    factories_before = counts(app)
    path = write(tmp_path, CLEAN + "Bad Place,restaurant,Zoe,,zoe@@example,12,,,,,,,\n")
    result, lines = run(runner, path)
    assert result.exit_code == 1
    assert "line 5: email: That email address" in result.output
    assert "line 5: phone: " in result.output
    assert "zoe@@example" not in result.output  # messages never quote the values
    assert "Nothing was imported: 1 row with errors" in result.output
    assert lines[-1] == "rows: 4, created: 0, updated: 0, duplicates: 0, errors: 1"
    assert counts(app) == factories_before


def test_skip_invalid_imports_the_valid_rows_and_reports_the_rest(app, runner, tmp_path):
    path = write(tmp_path, CLEAN + "Bad Place,restaurant,Zoe,,zoe@@example,,,,,,,,\n")
    report = str(tmp_path / "report.csv")
    result, lines = run(runner, path, "--skip-invalid", "--report", report)
    assert result.exit_code == 0
    assert lines[-1] == "rows: 4, created: 3, updated: 0, duplicates: 0, errors: 1"
    assert counts(app)[:2] == (2, 3)
    rows = report_rows(report)
    assert [r["outcome"] for r in rows] == ["created", "created", "created", "error"]
    assert rows[3]["line"] == "5" and rows[3]["message"].startswith("Email: That email address")
    assert rows[0]["customer_number"].startswith("CUST-") and rows[0]["contact_id"]


def test_dry_run_prints_what_the_import_would_print_and_writes_nothing(app, runner, tmp_path):
    path = write(tmp_path, CLEAN)
    before = counts(app)
    dry, dry_lines = run(runner, path, "--dry-run")
    assert dry.exit_code == 0 and "Dry run: nothing was written." in dry.output
    assert counts(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    real, real_lines = run(runner, path)
    assert dry_lines[-1] == real_lines[-1] == (
        "rows: 3, created: 3, updated: 0, duplicates: 0, errors: 0")
    bad = write(tmp_path, CLEAN + "X,restaurant,Zoe,,nope,,,,,,,,\n", "bad.csv")
    result, lines = run(runner, bad, "--dry-run")
    assert result.exit_code == 1 and "Nothing would be imported" in result.output


@pytest.fixture
def existing(app):
    """A customer with Rosa (rosa1@kitchen.example.com); returns ids and Rosa's email."""
    with app.app_context():
        customer = factories.customer(name="Osteria Verde")
        link = customer.contact_links[0]
        return {"customer": customer.id, "contact": link.contact_id,
                "email": link.contact.emails[0].email, "last": link.contact.last_name}


def matching_file(existing, tmp_path):
    return write(tmp_path, f"""{HEADER}
OSTERIA  verde,restaurant,Rosa,Renamed,{existing['email'].upper()},,,9 W Division St,Chicago,IL,60622,US,Now closed Mondays
Osteria Verde,,Luca,Bianchi,luca@verde.example.com,,kitchen,,,,,,
""")


def test_skip_leaves_matches_alone_but_adds_new_people_to_the_existing_customer(
        app, runner, tmp_path, existing):
    report = str(tmp_path / "r.csv")
    result, lines = run(runner, matching_file(existing, tmp_path), "--report", report)
    assert lines[-1] == "rows: 2, created: 1, updated: 0, duplicates: 1, errors: 0"
    rows = report_rows(report)
    assert rows[0]["outcome"] == "skipped" and rows[0]["contact_id"] == str(existing["contact"])
    assert "same email" in rows[0]["message"]
    assert rows[1]["outcome"] == "created"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 1
        customer = db.session.get(Customer, existing["customer"])
        assert customer.notes is None and customer.addresses[0].postal_code == "60614"
        assert db.session.get(Contact, existing["contact"]).last_name == existing["last"]
        roles = {l.contact.first_name: l.role for l in customer.contact_links}
        assert roles == {"Rosa": "primary", "Luca": "kitchen"}


def test_update_overwrites_matched_records_with_the_files_non_empty_values(
        app, runner, tmp_path, existing):
    report = str(tmp_path / "r.csv")
    result, lines = run(runner, matching_file(existing, tmp_path), "--on-duplicate", "update",
                        "--report", report)
    assert result.exit_code == 0
    assert lines[-1] == "rows: 2, created: 0, updated: 2, duplicates: 0, errors: 0"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 1
        customer = db.session.get(Customer, existing["customer"])
        assert customer.notes == "Now closed Mondays"
        place = customer.addresses[0]
        assert (place.street, place.postal_code) == ("9 W Division St", "60622")
        assert place.delivery_instructions == "Back door, ring twice"  # not in the file: kept
        rosa = db.session.get(Contact, existing["contact"])
        assert (rosa.first_name, rosa.last_name) == ("Rosa", "Renamed")
        assert len(rosa.phones) == 1  # an empty cell never blanks a value
        fields = db.session.scalars(select(AuditEvent.fields).where(
            AuditEvent.action == "update", AuditEvent.entity_type == "contact")).all()
        assert fields == [["last_name"]]
    assert "Contact updated: last_name" in report_rows(report)[0]["message"]


def test_create_makes_new_records_even_when_they_match(app, runner, tmp_path, existing):
    result, lines = run(runner, matching_file(existing, tmp_path), "--on-duplicate", "create")
    assert lines[-1] == "rows: 2, created: 2, updated: 0, duplicates: 0, errors: 0"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 2
        same_email = db.session.scalar(select(func.count()).select_from(ContactEmail).where(
            ContactEmail.email_bidx == email_index(existing["email"])))
        assert same_email == 2
        assert db.session.scalar(select(func.count()).select_from(Contact)) == 3


def test_headers_are_case_insensitive_with_aliases_and_extra_columns_listed(app, runner,
                                                                             tmp_path):
    text = ("COMPANY;Type;First Name;Surname;E-mail Address;Mobile;Zip;City;Address;"
            "State;Favourite colour;\n"
            "Harvest Table;Restaurant;Jo;Kim;jo@harvest.example.com;3125550142;60647;Chicago;"
            "1 N Damen Ave;IL;green;x\n")
    result, lines = run(runner, write(tmp_path, text))
    assert result.exit_code == 0, result.output
    assert "semicolon-separated" in result.output
    assert "Ignored columns: Favourite colour, (column 12 without a name)." in result.output
    with app.app_context():
        contact = db.session.scalar(select(Contact))
        assert (contact.first_name, contact.last_name) == ("Jo", "Kim")
        assert contact.phones[0].phone == "+13125550142"
        assert db.session.scalar(select(Address)).postal_code == "60647"


@pytest.mark.parametrize("encoding, label", [
    ("latin-1", "Windows-1252 (Latin-1)"), ("utf-8-sig", "UTF-8 with BOM"),
    ("utf-16", "UTF-16")])
def test_encodings_are_detected_and_accents_survive(app, runner, tmp_path, encoding, label):
    text = f"{HEADER}\nCafé Ñandú,restaurant,José,Muñoz,,,,,,,,,Crème fraîche\n"
    result, lines = run(runner, write(tmp_path, text, encoding=encoding))
    assert result.exit_code == 0, result.output
    assert f"({label}, comma-separated)" in result.output
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        assert (customer.name, customer.notes) == ("Café Ñandú", "Crème fraîche")
        assert db.session.scalar(select(Contact)).last_name == "Muñoz"


def test_tab_separated_files_work(app, runner, tmp_path):
    text = "customer_name\tcustomer_kind\tfirst_name\nGreen Grocer\tgrocer\tAmara\n"
    result, lines = run(runner, write(tmp_path, text))
    assert result.exit_code == 0 and "tab-separated" in result.output


@pytest.mark.parametrize("text, message", [
    ("email,phone\na@b.example.com,1\n",
     "No column is read as a customer or a person's name."),
    ("", "The file is empty."),
    (f"{HEADER}\n\n\n", "The file has a header line but no rows."),
    (b"PK\x03\x04" + bytes(100), "This is a spreadsheet workbook, not a CSV file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(100), "This is not a text file"),
])
def test_files_that_cannot_be_used_exit_2_with_a_message(app, runner, tmp_path, text, message):
    result, lines = run(runner, write(tmp_path, text))
    assert result.exit_code == 2
    assert message in result.output
    assert counts(app) == (0, 0, 0, 0, 0)


def test_a_50_mb_file_is_refused_with_the_limit(app, runner, tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w") as handle:
        handle.write(HEADER + "\n")
        line = "Big Place,restaurant,Al,Smith,,,,,,,,,notes notes notes notes notes\n"
        handle.write(line * (50 * 2**20 // len(line) + 1))
    result, lines = run(runner, str(path))
    assert result.exit_code == 2
    assert "This file is 50 MB; the import takes 20 MB at most." in result.output
    assert counts(app)[0] == 0


def test_blank_lines_and_quoted_newlines_keep_line_numbers_right(app, runner, tmp_path):
    text = (f"{HEADER}\n\n"
            'Pistil,restaurant,Ana,,,,,,,,,,"Line one\nline two"\n'
            "\n,,,,,,,,,,,,\n"
            "Pistil,,Ben,,not-an-email,,,,,,,,\n")
    result, lines = run(runner, write(tmp_path, text))
    assert result.exit_code == 1
    assert "line 7: email: That email address" in result.output
    result, lines = run(runner, write(tmp_path, text.replace("not-an-email", "")))
    assert lines[-1] == "rows: 2, created: 2, updated: 0, duplicates: 0, errors: 0"
    with app.app_context():
        assert db.session.scalar(select(Customer)).notes == "Line one\nline two"


def test_a_row_with_more_cells_than_the_header_says_why(app, runner, tmp_path):
    text = f"{HEADER}\nSmith, Jones & Co,restaurant,Al,,,,,,,,,,Back door\n"
    result, lines = run(runner, write(tmp_path, text))
    assert result.exit_code == 1
    assert "line 2: row: This line has 14 cells but the header has 13" in result.output


def test_the_same_person_twice_in_one_file(app, runner, tmp_path):
    text = f"""{HEADER}
Juniper & Rye,restaurant,Ana,Silva,ana@juniper.example.com,,,,,,,,
Juniper & Rye,,ANA,SILVA,ana@juniper.example.com,,,,,,,,
Juniper and Rye Catering,caterer,Ana,Silva,ana@juniper.example.com,,billing,,,,,,
Juniper & Rye,,Ana,Silva,,,,,,,,,
Juniper & Rye,,Omar,Ahmed,ana@juniper.example.com,,,,,,,,
"""
    report = str(tmp_path / "r.csv")
    result, lines = run(runner, write(tmp_path, text), "--skip-invalid", "--report", report)
    rows = report_rows(report)
    assert [r["outcome"] for r in rows] == ["created", "duplicate", "created", "duplicate",
                                           "error"]
    assert rows[1]["message"] == "Same person as line 2; imported once."
    assert rows[3]["message"] == "Same person as line 2; imported once."  # same name, customer
    assert "Line 2 has this email for another person" in rows[4]["message"]
    assert lines[-1] == "rows: 5, created: 2, updated: 0, duplicates: 2, errors: 1"
    with app.app_context():  # one person, linked to both customers
        ana = db.session.scalar(select(Contact))
        assert db.session.scalar(select(func.count()).select_from(Contact)) == 1
        assert sorted(l.role for l in ana.customer_links) == ["billing", "primary"]


def test_conflicting_customer_values_and_bad_cells_get_messages_per_column(app, runner,
                                                                          tmp_path):
    text = f"""{HEADER}
Plated Events,caterer,Al,,,,,1 Main St,Chicago,IL,60614,,
Plated Events,grocer,Bo,,,,,,,,,,
Nowhere,wizard,Cy,,,,boss,5 Elm St,,,ABC,Mars,
New Place,,Di,,,,,,,,,,
"""
    result, lines = run(runner, write(tmp_path, text))
    out = result.output
    assert ("line 3: customer_kind: Line 2 says this customer is a caterer, this line says a "
            "grocer. One customer has one kind") in out
    assert "line 4: customer_kind: Not a kind of customer; use one of restaurant" in out
    assert "line 4: role: Not a contact role; use one of primary, ordering" in out
    assert "line 4: city: An address needs a city." in out
    assert "line 4: country: Use one of the countries we deliver to: US, CA, GB." in out
    assert "line 5:" not in out  # no kind: the default (restaurant) for an organisation
    assert lines[-1] == "rows: 4, created: 0, updated: 0, duplicates: 0, errors: 2"


def test_formulas_are_kept_as_typed_but_neutralised_in_the_report(app, runner, tmp_path):
    text = (f"{HEADER}\n"
            '"=HYPERLINK(""http://evil.example"",""x"")",restaurant,@Sum(1),-Al,,,,,,,,,+cmd\n')
    report = str(tmp_path / "r.csv")
    result, lines = run(runner, write(tmp_path, text), "--report", report)
    assert result.exit_code == 0, result.output
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        assert customer.name == '=HYPERLINK("http://evil.example","x")'
        assert customer.notes == "+cmd"
        assert db.session.scalar(select(Contact)).first_name == "@Sum(1)"
    for row in report_rows(report):
        assert not any(v.startswith(("=", "+", "-", "@")) for v in row.values())


def test_the_report_is_safe_even_when_messages_could_start_a_formula():
    from crm.contacts.importing import safe_cell, unsafe_cell

    for payload in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx"):
        assert safe_cell(payload) == "'" + payload
        assert unsafe_cell(safe_cell(payload)) == payload
    assert safe_cell("Osteria") == "Osteria" and safe_cell(None) == "" and safe_cell(5) == "5"
    assert unsafe_cell("'tis") == "'tis"


def test_the_report_lists_every_row_of_a_refused_import(app, runner, tmp_path):
    report = str(tmp_path / "r.csv")
    run(runner, write(tmp_path, CLEAN + "X,restaurant,Zoe,,nope,,,,,,,,\n"), "--report", report)
    rows = report_rows(report)
    assert [r["line"] for r in rows] == ["2", "3", "4", "5"]
    assert [r["outcome"] for r in rows] == ["skipped"] * 3 + ["error"]
    assert rows[0]["message"].startswith("Not imported: 1 row of the file has errors")


def test_exported_phones_read_back_without_their_apostrophe(app, runner, tmp_path):
    text = f"{HEADER}\nQuinn's,individual,Quinn,,,'+13125550199,,,,,,,\n"
    result, lines = run(runner, write(tmp_path, text))
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Contact)).phones[0].phone == "+13125550199"
        assert db.session.scalar(select(Customer)).name == "Quinn's"


def test_report_messages_never_quote_the_files_values(app, runner, tmp_path):
    text = f"{HEADER}\nSecret Garden,restaurant,Xavier,Quux,xavier@@secret,99,,,,,,,\n"
    report = str(tmp_path / "r.csv")
    result, lines = run(runner, write(tmp_path, text), "--skip-invalid", "--report", report)
    with open(report, encoding="utf-8") as handle:
        content = handle.read() + result.output
    for value in ("Secret Garden", "Xavier", "Quux", "xavier@@secret"):
        assert value not in content
