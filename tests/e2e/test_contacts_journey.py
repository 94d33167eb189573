"""Journey: a manager brings in last season's messy spreadsheet, reads the preview, imports the
valid rows, then finds a customer entered twice and merges it."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from crm.contacts.models import ContactEmail
from crm.customers.models import Customer
from crm.extensions import db
from tests import factories
from tests.e2e.conftest import Screenshots, sign_in


def seed(app):
    """A customer with a contact whose email the file repeats, and one customer entered twice
    (same name, same postal code, a contact each)."""
    with app.app_context():
        cafe = factories.customer("Golden Radish Cafe")
        known = db.session.scalar(select(ContactEmail.email).where(
            ContactEmail.contact_id == cafe.contact_links[0].contact_id))
        first = factories.customer("Sunny Sprouts Market", kind="grocer", notes="Pays on time.")
        second = factories.customer("Sunny Sprouts Market", kind="grocer",
                                    notes="Wants 4 oz clamshells.")
        ids = first.id, second.id
        db.session.remove()
    return known, ids


def messy_file(known_email):
    """Semicolon-separated, Latin-1, aliased headers in odd case, a column of notes under a
    name we do not know ("Memo"), a blank line, a quoted newline, a bad email and a person
    already on record."""
    lines = [
        "Company;TYPE;First Name;last name;E-mail;Mobile;Role;Street;City;State;Zip;Country;Memo",
        "Café Ñandú;restaurant;josé;PÉREZ;Jose@Example.COM;(312) 555-0101;ordering;"
        "1 W Main St;Chicago;il;60614;US;\"Back door,\nring twice\"",
        "",
        f"Golden Radish Cafe;restaurant;Rosa;Tester;{known_email};;kitchen;;;;;;",
        "Bad Row Bistro;restaurant;Omar;Sato;omar@;;ordering;;;;;;",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


def test_import_a_messy_file_then_merge_a_duplicate(app, page, make_staff):
    known_email, (first_id, second_id) = seed(app)
    email, password = make_staff("manager")
    shots = Screenshots("desktop")
    sign_in(page, email, password)

    # The Contacts page leads to the import.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name="Import from a CSV file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import customers and contacts")
    page.get_by_label("CSV file").set_input_files(files=[{
        "name": "last-season.csv", "mimeType": "text/csv", "buffer": messy_file(known_email)}])
    page.get_by_role("button", name="Check the file").click()

    # The preview: what the file holds, and the bad row named with its line and column.
    expect(page.get_by_role("heading", level=2, name="What the file holds")).to_be_visible()
    preview = page.locator("main")
    expect(preview).to_contain_text("Latin-1")
    expect(preview).to_contain_text("semicolon")
    rows = page.get_by_role("table", name="Rows")
    expect(rows).to_contain_text("omar@")  # the typed value, shown to fix the file
    expect(rows.get_by_role("row").filter(has_text="Bad Row Bistro")).to_contain_text(
        re.compile("email", re.I))
    shots.take(page, "contacts-import-preview")
    run = page.get_by_role("button", name=re.compile(r"^Import"))
    expect(run).to_be_disabled()  # a row has an error: nothing can be imported as it stands

    # The columns step: "Memo" is not imported as it stands; read it as the notes.
    memo = page.get_by_label("Memo")
    expect(memo).to_have_value("")
    expect(page.get_by_role("group", name="Columns")).to_contain_text("Back door")
    memo.select_option(label="Notes")
    expect(page.locator("#import-preview")).to_contain_text("Ignored columns")
    expect(page.get_by_label("Memo")).to_have_value("notes")  # the preview, checked again
    shots.take(page, "contacts-import-columns")
    page.get_by_label("Import valid rows only").check()
    run = page.get_by_role("button", name=re.compile(r"^Import \d+ rows?$"))
    expect(run).to_be_enabled()
    run.click()
    expect(page.get_by_role("heading", level=2, name="Imported")).to_be_visible(timeout=15_000)
    expect(page.locator("#import-status")).to_contain_text("1 created")
    expect(page.get_by_role("link", name="Download report (CSV)")).to_be_visible()
    shots.take(page, "contacts-import-done")

    # The imported customer, cased and standardised.
    with app.app_context():
        made = [c for c in db.session.scalars(select(Customer)) if c.name == "Café Ñandú"]
        assert len(made) == 1
        made_id = made[0].id
    page.goto(f"/customers/{made_id}/contacts")
    tab = page.locator("#tab-panel")
    expect(tab).to_contain_text("José Pérez")
    expect(tab).to_contain_text("jose@example.com")
    expect(tab).to_contain_text("(312) 555-0101")
    expect(tab).to_contain_text("Chicago, IL 60614")
    with app.app_context():
        assert db.session.get(Customer, made_id).notes == "Back door,\nring twice"

    # Possible duplicates: scan, then the customer entered twice.
    page.goto("/contacts/duplicates")
    page.get_by_role("button", name="Scan for duplicates").click()
    kinds = page.get_by_role("navigation", name="Kind of record")
    kinds.get_by_role("link", name="Customers (1)").click()  # once the scan is done
    pair = page.locator("li.dup-pair").filter(has_text="Sunny Sprouts Market")
    expect(pair).to_have_count(1)
    shots.take(page, "contacts-duplicates")
    pair.get_by_role("link", name=re.compile("Compare and merge")).click()

    # The merge screen: keep A, take B's notes, confirm.
    expect(page.get_by_role("heading", level=1)).to_have_text("Merge two customers")
    page.get_by_role("row", name=re.compile("^Notes")).get_by_label(re.compile("from B")).check()
    shots.take(page, "contacts-merge")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Merge").click()
    expect(page).to_have_url(re.compile(rf"/customers/{first_id}$"))
    expect(page.locator("#toasts")).to_contain_text("Merged into")

    # The merged-away customer's page leads to the survivor, which has B's notes.
    page.goto(f"/customers/{second_id}")
    expect(page).to_have_url(re.compile(rf"/customers/{first_id}$"))
    expect(page.locator("main")).to_contain_text("Wants 4 oz clamshells.")
    assert not shots.overflow, shots.overflow
