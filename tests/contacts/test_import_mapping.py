"""Importing the files people have: Google Contacts and Outlook exports read by their published
headers, a column-mapping step (suggested, changeable, remembered per header), people without
an organisation, several values in one cell, and in-file duplicates that differ only in notes."""
import csv
import io

from sqlalchemy import func, select

from crm.contacts.models import Contact, ContactEmail, ContactPhone, ImportMapping
from crm.customers.models import Customer
from crm.extensions import db
from tests.contacts.test_import import HEADER, customers, read_report, uploaded

# Google Contacts' CSV export ("Google CSV"), its published header (first columns of it).
GOOGLE_HEADER = [
    "Name", "Given Name", "Additional Name", "Family Name", "Yomi Name", "Given Name Yomi",
    "Additional Name Yomi", "Family Name Yomi", "Name Prefix", "Name Suffix", "Initials",
    "Nickname", "Short Name", "Maiden Name", "Birthday", "Gender", "Location",
    "Billing Information", "Directory Server", "Mileage", "Occupation", "Hobby", "Sensitivity",
    "Priority", "Subject", "Notes", "Language", "Photo", "Group Membership", "E-mail 1 - Type",
    "E-mail 1 - Value", "E-mail 2 - Type", "E-mail 2 - Value", "Phone 1 - Type",
    "Phone 1 - Value", "Phone 2 - Type", "Phone 2 - Value", "Address 1 - Type",
    "Address 1 - Formatted", "Address 1 - Street", "Address 1 - City", "Address 1 - PO Box",
    "Address 1 - Region", "Address 1 - Postal Code", "Address 1 - Country",
    "Address 1 - Extended Address", "Organization 1 - Type", "Organization 1 - Name",
    "Organization 1 - Yomi Name", "Organization 1 - Title", "Organization 1 - Department",
]
# Outlook's "Comma Separated Values" contacts export, its published header.
OUTLOOK_HEADER = [
    "First Name", "Middle Name", "Last Name", "Title", "Suffix", "Nickname", "Given Yomi",
    "Surname Yomi", "E-mail Address", "E-mail 2 Address", "E-mail 3 Address", "Home Phone",
    "Home Phone 2", "Business Phone", "Business Phone 2", "Mobile Phone", "Car Phone",
    "Other Phone", "Primary Phone", "Pager", "Business Fax", "Home Fax", "Other Fax",
    "Company Main Phone", "Callback", "Radio Phone", "Telex", "TTY/TDD Phone", "IMAddress",
    "Job Title", "Department", "Company", "Office Location", "Manager's Name",
    "Assistant's Name", "Assistant's Phone", "Company Yomi", "Business Street", "Business City",
    "Business State", "Business Postal Code", "Business Country/Region", "Home Street",
    "Home City", "Home State", "Home Postal Code", "Home Country/Region", "Other Street",
    "Other City", "Other State", "Other Postal Code", "Other Country/Region",
    "Personal Web Page", "Spouse", "Schools", "Hobby", "Location", "Web Page", "Birthday",
    "Anniversary", "Notes",
]


def csv_text(header, rows) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def google_file():
    return csv_text(GOOGLE_HEADER, [
        {"Name": "Marguerite Okafor", "Given Name": "Marguerite", "Family Name": "Okafor",
         "Birthday": "1980-05-05", "E-mail 1 - Type": "* Work",
         "E-mail 1 - Value": "marguerite@heron.example ::: chef@heron.example",
         "Phone 1 - Type": "Mobile", "Phone 1 - Value": "(312) 555-1814 ::: 312.555.1815",
         "Organization 1 - Name": "Blue Heron Bistro", "Organization 1 - Title": "Chef",
         "Address 1 - Street": "12 N Clark St", "Address 1 - City": "Chicago",
         "Address 1 - Region": "IL", "Address 1 - Postal Code": "60614",
         "Address 1 - Country": "US"},
        {"Name": "Tom Reyes", "Given Name": "Tom", "Family Name": "Reyes",
         "E-mail 1 - Value": "tom@heron.example", "Organization 1 - Name": "Blue Heron Bistro"},
        {"Name": "Zoe Park", "Given Name": "Zoe", "Family Name": "Park",
         "E-mail 1 - Value": "zoe@home.example", "Phone 1 - Value": "+1 773 555 0199",
         "Notes": "Buys at the Saturday market"},
    ])


def test_a_google_contacts_export_is_recognised_and_imported(app, client, auth):
    auth.sign_in("manager")
    url = uploaded(auth, google_file(), name="contacts.csv")
    page = client.get(url).text
    assert "Recognised as a Google Contacts export." in page
    assert 'name="field-30"' in page  # E-mail 1 - Value, read as Email:
    assert '<select id="field-30" name="field-30"' in page
    email_select = page[page.index('<select id="field-30"'):]
    assert '<option value="email" selected>' in email_select[:email_select.index("</select>")]
    birthday = page[page.index('<select id="field-14"'):]
    assert '<option value="" selected>Not imported' in birthday[:birthday.index("</select>")]
    assert "3 to create" in page  # 3 rows: 2 people at one bistro, 1 person alone
    auth.post(url + "/run", {"on_duplicate": "skip"}, page=url)
    with app.app_context():
        bistro = db.session.scalar(select(Customer).where(Customer.kind == "restaurant"))
        alone = db.session.scalar(select(Customer).where(Customer.kind == "individual"))
        assert bistro.name == "Blue Heron Bistro"
        assert sorted(l.contact.first_name for l in bistro.contact_links) == ["Marguerite",
                                                                              "Tom"]
        assert bistro.delivery_address.city == "Chicago"
        assert alone.name == "Zoe Park" and alone.notes == "Buys at the Saturday market"
        [marguerite] = [c for c in db.session.scalars(select(Contact))
                        if c.first_name == "Marguerite"]  # names are encrypted
        assert [(e.email, e.is_primary) for e in marguerite.emails] == [
            ("marguerite@heron.example", True), ("chef@heron.example", False)]
        assert [(p.phone, p.is_primary) for p in marguerite.phones] == [
            ("+13125551814", True), ("+13125551815", False)]


def test_an_outlook_export_is_recognised_with_its_several_phone_columns(app, client, auth):
    auth.sign_in("manager")
    data = csv_text(OUTLOOK_HEADER, [
        {"First Name": "Ana", "Last Name": "Garcia", "Company": "Little Fern Kitchen",
         "E-mail Address": "ana@fern.example", "Business Phone": "(312) 555-0101",
         "Mobile Phone": "(312) 555-0102", "Business Street": "1 Fern Way",
         "Business City": "Chicago", "Business State": "IL", "Business Postal Code": "60614",
         "Job Title": "Owner", "Birthday": "1/2/1980"},
    ])
    url = uploaded(auth, data, name="outlook.csv")
    page = client.get(url).text
    assert "Recognised as a Outlook export." in page or "Recognised as an Outlook export." in page
    auth.post(url + "/run", {"on_duplicate": "skip"}, page=url)
    with app.app_context():
        ana = db.session.scalar(select(Contact))
        assert [p.phone for p in ana.phones] == ["+13125550101", "+13125550102"]
        assert ana.customer_links[0].customer.name == "Little Fern Kitchen"


def test_changing_a_column_checks_again_and_is_remembered_for_the_same_header(app, client,
                                                                             auth):
    auth.sign_in("manager")
    data = "Venue,Who,Contact,Memo\nGreen Grocer,Ana,ana@grocer.example,Tuesdays\n"
    url = uploaded(auth, data)
    page = client.get(url).text
    assert "No column is read as a customer or a person&#39;s name." in page
    assert "Import 1 row" not in page and "Choose the columns first" in page
    # "Contact" holds emails: suggested from the values; "Shop" and "Who" are chosen here.
    contact = page[page.index('<select id="field-2"'):]
    assert '<option value="email" selected>' in contact[:contact.index("</select>")]
    chosen = {"on_duplicate": "skip", "default_kind": "grocer", "field-0": "customer_name",
              "field-1": "first_name", "field-2": "email", "field-3": "notes"}
    changed = auth.post(url, chosen, page=url, htmx=True)
    assert changed.status_code == 200 and "Import 1 row" in changed.text
    auth.post(url + "/run", chosen, page=url)
    with app.app_context():
        grocer = db.session.scalar(select(Customer))
        assert (grocer.name, grocer.kind, grocer.notes) == ("Green Grocer", "grocer", "Tuesdays")
        assert db.session.scalar(select(func.count()).select_from(ImportMapping)) == 1
        stored = db.session.execute(select(ImportMapping.header_key, ImportMapping.fields)).one()
        assert "Venue" not in stored.header_key  # a hash of the header, never its text
    again = uploaded(auth, "venue,who,contact,memo\nRoot Cellar,Ben,ben@root.example,\n")
    page = client.get(again).text
    assert "Read as you chose last time for a file with this header." in page
    assert "Import 1 row" in page


def test_people_without_an_organisation_become_individual_customers(app, client, auth):
    auth.sign_in("manager")
    data = ("first_name,last_name,email,customer_name,customer_kind\n"
            "Zoe,Reyes,zoe@home.example,,\n"
            ",,,Corner Cafe,\n")
    url = uploaded(auth, data)
    auth.post(url + "/run", {"on_duplicate": "skip"}, page=url)
    with app.app_context():
        found = {c.name: c.kind for c in db.session.scalars(select(Customer))}
    assert found == {"Zoe Reyes": "individual", "Corner Cafe": "restaurant"}


def test_rows_for_one_person_differing_in_notes_are_duplicates_not_errors(app, client, auth):
    auth.sign_in("manager")
    data = (f"{HEADER}\n"
            "Osteria Verde,restaurant,Rosa,Tester,rosa@verde.example,,,,,,,,Loves pea shoots\n"
            "Osteria Verde,restaurant,Rosa,Tester, ROSA@verde.example ,,,,,,,,Pays on time\n")
    url = uploaded(auth, data)
    page = client.get(url).text
    assert "<dt>With errors</dt><dd>none" in page
    assert "Same person as line 2; imported once. Notes differ: kept line 2&#39;s." in page
    assert "gives this customer another" not in page
    auth.post(url + "/run", {"on_duplicate": "skip"}, page=url)
    assert read_report(client, url)[1]["outcome"] == "duplicate"
    with app.app_context():
        assert db.session.scalar(select(Customer.notes)) == "Loves pea shoots"
        assert db.session.scalar(select(func.count()).select_from(Contact)) == 1


def test_two_kinds_for_one_customer_stay_an_error_in_plain_words(client, auth):
    auth.sign_in("manager")
    data = (f"{HEADER}\nPlated,caterer,Al,,,,,,,,,,\nPlated,grocer,Bo,,,,,,,,,,\n")
    page = client.get(uploaded(auth, data)).text
    assert ("Line 2 says this customer is a caterer, this line says a grocer. One customer "
            "has one kind") in page


def test_too_many_emails_in_one_cell_are_refused_for_that_row(client, auth):
    auth.sign_in("manager")
    emails = " ::: ".join(f"p{n}@x.example" for n in range(11))
    page = client.get(uploaded(auth, f"{HEADER}\nPlace,restaurant,Al,,{emails},,,,,,,,\n")).text
    assert "11 values: a person can have 10 at most." in page


def test_the_cli_reads_a_mapping_file_and_a_default_kind(app, tmp_path):
    from crm.contacts.importing.cli import import_command

    path = tmp_path / "shop.csv"
    path.write_text("Venue,Who,Contact\nGreen Grocer,Ana,ana@grocer.example\n")
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("column,field\nVenue,customer_name\nWho,first_name\nContact,email\n")
    runner = app.test_cli_runner()
    without = runner.invoke(import_command, [str(path)])
    assert without.exit_code == 2 and "No column is read as a customer" in without.output
    result = runner.invoke(import_command, [str(path), "--mapping", str(mapping),
                                            "--kind", "grocer"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(select(Customer.name, Customer.kind)).one() == (
            "Green Grocer", "grocer")
        assert db.session.scalar(select(ContactEmail.email)) == "ana@grocer.example"
    twice = tmp_path / "twice.csv"
    twice.write_text("Venue,customer_name\nWho,customer_name\n")
    bad = runner.invoke(import_command, [str(path), "--mapping", str(twice)])
    assert bad.exit_code == 2 and "Two columns are both read as Customer" in bad.output


def test_the_cli_recognises_a_google_export_by_itself(app, tmp_path):
    from crm.contacts.importing.cli import import_command

    path = tmp_path / "google.csv"
    path.write_text(google_file())
    result = app.test_cli_runner().invoke(import_command, [str(path)])
    assert "Recognised a Google Contacts export." in result.output
    assert result.exit_code == 0, result.output
    assert customers(app) == 2
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContactPhone)) == 3
