"""The delivery sheet pages: HTML to print, PDF, per-customer sheet, bad input, roles."""
import re
import subprocess
from datetime import time
from email.message import EmailMessage, Message

import pytest
from werkzeug.http import parse_options_header

from crm.extensions import db
from crm.preferences.models import StandingItem
from tests import factories
from tests.conftest import Auth

DAY = "2026-11-24"  # a Tuesday


@pytest.fixture
def route_day(app):
    """Two routes with a stop each on DAY; returns the first customer's id."""
    with app.app_context():
        products, packaging = factories.catalogue()
        fern = factories.customer("Fern Cafe", notes="Chef Rosa; back door", pricing_tier="restaurant")
        oak = factories.customer("Oak Bistro")
        factories.delivery_plan(fern, window_start=time(7), window_end=time(9, 30),
                                call_ahead=True, special_handling="Keep out of the sun")
        factories.delivery_plan(oak, route_name="South")
        db.session.add(StandingItem(customer_id=fern.id, product=products["Sunflower"],
                                    size="4 oz", quantity=6, packaging=packaging["4 oz clamshell"]))
        db.session.commit()
        return fern.id


def test_the_sheet_lists_stops_per_route_with_what_the_crew_needs(app, client, auth, route_day):
    auth.sign_in("delivery")
    page = client.get(f"/delivery/sheets?date={DAY}")
    assert page.status_code == 200
    text = page.text
    assert text.index("North route") < text.index("Fern Cafe") < text.index("South route")
    assert "7:00 AM–9:30 AM" in text and "Call ahead" in text
    assert "Back door, ring twice" in text  # the delivery address's instructions
    assert "Receiving: Rosa" in text and "(312) 556" in text
    assert "Sunflower" in text and "4 oz clamshell" in text and "Keep out of the sun" in text
    assert "Packing totals" in text
    assert "Pricing" not in text and "Credit" not in text  # no financial data
    only_south = client.get(f"/delivery/sheets?date={DAY}&route=South")
    assert "Oak Bistro" in only_south.text and "Fern Cafe" not in only_south.text


def pdf_tool(tool, data, tmp_path):
    """Read a PDF back with poppler-utils (installed by `make pdf-libs`)."""
    path = tmp_path / "sheet.pdf"
    path.write_bytes(data)
    args = [tool, str(path)] + (["-layout", "-"] if tool == "pdftotext" else [])
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def test_the_pdf_has_a_page_per_route_and_one_for_totals(app, client, auth, route_day,
                                                          tmp_path):
    auth.sign_in("delivery")
    pdf = client.get(f"/delivery/sheets.pdf?date={DAY}")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")
    assert 'filename="delivery-2026-11-24.pdf"' in pdf.headers["Content-Disposition"]
    info = pdf_tool("pdfinfo", pdf.data, tmp_path)
    assert "Pages:           3" in info  # North, South, then the totals
    text = pdf_tool("pdftotext", pdf.data, tmp_path)
    assert "North route" in text and "Fern Cafe" in text and "Sunflower" in text
    assert text.index("North route") < text.index("South route") < text.index("Packing totals")


@pytest.mark.parametrize("query, message", [
    ("date=tomorrow", "is not a date; use YYYY-MM-DD"),
    ("date=2026-02-30", "is not a date"),
    (f"date={DAY}&route=Nowhere", "There is no route called “Nowhere”."),
])
def test_bad_dates_and_unknown_routes_are_explained(app, client, auth, route_day, query, message):
    auth.sign_in("delivery")
    for url in (f"/delivery/sheets?{query}", f"/delivery/sheets.pdf?{query}"):
        response = client.get(url)
        assert response.status_code == 400 and message in response.text


def test_a_day_without_deliveries_says_so(app, client, auth, route_day):
    auth.sign_in("manager")
    page = client.get("/delivery/sheets?date=2026-11-25")
    assert "No deliveries on Wednesday November 25, 2026." in page.text


def test_customer_preference_sheet(app, client, auth, route_day):
    auth.sign_in("delivery")
    page = client.get(f"/delivery/customers/{route_day}")
    assert page.status_code == 200
    assert "Fern Cafe" in page.text and "Tue, Fri" in page.text and "Sunflower" in page.text
    assert client.get("/delivery/customers/999999").status_code == 404


def test_finance_has_no_sheets_and_delivery_cannot_edit_preferences(app, client, auth, route_day):
    finance = Auth(app, app.test_client())
    finance.sign_in("finance")
    assert finance.client.get(f"/delivery/sheets?date={DAY}").status_code == 403
    auth.sign_in("delivery")
    tab = client.get(f"/customers/{route_day}/preferences")
    assert tab.status_code == 200 and "Sunflower" in tab.text
    assert "Save delivery plan" not in tab.text
    assert auth.post(f"/customers/{route_day}/preferences/pauses",
                     {"starts_on": "2026-12-01", "ends_on": "2026-12-02"},
                     page="/customers/").status_code == 403


def route_named(app, name):
    """A route called `name` with one stop on DAY."""
    with app.app_context():
        factories.catalogue()
        factories.delivery_plan(factories.customer("Fern Cafe"), route_name=name)


def test_a_route_with_an_en_dash_downloads_with_its_name(app, client, auth):
    route_named(app, "East – Loop")
    auth.sign_in("delivery")
    pdf = client.get("/delivery/sheets.pdf", query_string={"date": DAY, "route": "East – Loop"})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    header = pdf.headers["Content-Disposition"]
    header.encode("latin-1")  # as a server writes it: UnicodeEncodeError here before
    kind, params = parse_options_header(header)
    assert kind == "inline" and params["filename"] == "delivery-2026-11-24-east-–-loop.pdf"
    assert 'filename="delivery-2026-11-24-east--loop.pdf"' in header  # the ASCII fallback
    assert "filename*=UTF-8''delivery-2026-11-24-east-%E2%80%93-loop.pdf" in header


def test_a_route_name_cannot_rename_the_pdf(app, client, auth):
    hostile = "a\";filename*=UTF-8''invoice.exe;x=\""
    route_named(app, hostile)
    auth.sign_in("delivery")
    pdf = client.get("/delivery/sheets.pdf", query_string={"date": DAY, "route": hostile})
    assert pdf.status_code == 200
    header = pdf.headers["Content-Disposition"]
    header.encode("latin-1")
    legacy, current = Message(), EmailMessage()
    legacy["Content-Disposition"] = current["Content-Disposition"] = header
    _, params = parse_options_header(header)
    assert set(params) == {"filename"}  # no x=, no second filename*
    for name in (params["filename"], legacy.get_filename(), current.get_filename()):
        assert name.endswith(".pdf") and "invoice.exe\"" not in name and '"' not in name


def test_the_pdf_button_sends_the_form_as_it_is_now(app, client, auth, route_day):
    """Issue 14, trap 4: the PDF was a link to the date and route last shown, so changing the
    fields and pressing PDF (without Show) printed the wrong day. It is a submit button of the
    same GET form now: the browser sends whatever the fields hold."""
    auth.sign_in("delivery")
    page = client.get(f"/delivery/sheets?date={DAY}&route=South").text
    form = re.search(r'<form class="filters[^"]*" method="get"[^>]*>.*?</form>', page, re.S).group(0)
    assert 'formaction="/delivery/sheets.pdf"' in form
    assert re.search(r'<button type="submit" formaction="/delivery/sheets.pdf">PDF</button>', form)
    assert "sheets.pdf?" not in page  # no link frozen to the values shown
    # What the browser sends for the fields as changed (another date, all routes): that PDF.
    names = re.findall(r'name="(\w+)"', form)
    assert sorted(names) == ["date", "route"]
    pdf = client.get("/delivery/sheets.pdf?date=2026-11-27&route=")
    assert 'filename="delivery-2026-11-27.pdf"' in pdf.headers["Content-Disposition"]


@pytest.fixture
def driver_day(app):
    """Three stops on the North route on DAY, the plan's stop numbers 1, 4 and 7 (a skipped
    customer in between), one with office notes; returns {name: (customer id, phone, address)}."""
    with app.app_context():
        factories.catalogue()
        made = {}
        for name, stop, extra in (("Fern Cafe", 1, {"notes": "Pays on time; upsell radish"}),
                                  ("Oak Bistro", 4, {}), ("Elm Deli", 7, {})):
            customer = factories.customer(name, **extra)
            factories.delivery_plan(customer, stop=stop, labelling="Date on every box",
                                    special_handling="Keep out of the sun")
            link = customer.contact_links[0]
            made[name] = (customer.id, link.contact.primary_phone.phone,
                          customer.delivery_address.one_line)
        return made


def test_drivers_get_links_to_the_sheet_the_phone_and_a_map(app, client, auth, driver_day):
    """Issue 14 item 11: the customer's name opens their preference sheet, the phone is tel:,
    the address is a plain link to a map search (no scripts), the print shows the text."""
    auth.sign_in("delivery")
    text = client.get(f"/delivery/sheets?date={DAY}").text
    customer_id, phone, address = driver_day["Fern Cafe"]
    assert f'href="/delivery/customers/{customer_id}">Fern Cafe</a>' in text
    assert f'<a href="tel:{phone}">' in text and phone.startswith("+1312")
    query = address.replace(" ", "%20").replace(",", "%2C")
    assert (f'href="https://www.google.com/maps/search/?api=1&amp;query={query}"') in text
    assert "maps.googleapis" not in text and "<script src=\"https://" not in text
    assert client.get(f"/delivery/customers/{customer_id}").status_code == 200
    sheet = client.get(f"/delivery/customers/{customer_id}").text
    assert f'<a href="tel:{phone}">' in sheet and "google.com/maps/search/?api=1&amp;query=" in sheet


def test_stops_are_numbered_in_route_order_with_the_plan_stop_beside(app, client, auth,
                                                                     driver_day):
    auth.sign_in("delivery")
    text = client.get(f"/delivery/sheets?date={DAY}").text
    numbers = re.findall(r'<span class="stop-no">(\d+)</span>(?: <span class="plan-stop">'
                         r'\((plan stop \d+)\)</span>)? <a class="stop-name"[^>]*>([^<]+)</a>', text)
    assert numbers == [("1", "", "Fern Cafe"), ("2", "plan stop 4", "Oak Bistro"),
                       ("3", "plan stop 7", "Elm Deli")]
    plain = re.sub(r"<[^>]+>", "", text)
    assert "3 (plan stop 7) Elm Deli" in plain
    assert '<span class="stop-no">1</span> <a' in text  # the same number: nothing beside it


def test_office_notes_stay_off_the_drivers_sheet_and_its_pdf(app, client, auth, driver_day,
                                                            tmp_path):
    """The customer's notes are for sales ("Pays on time"); the driver gets the address's
    delivery instructions and the plan's handling and labelling."""
    auth.sign_in("delivery")
    html = client.get(f"/delivery/sheets?date={DAY}").text
    pdf = client.get(f"/delivery/sheets.pdf?date={DAY}")
    assert pdf.status_code == 200
    text = pdf_tool("pdftotext", pdf.data, tmp_path)
    for shown in (html, text):
        assert "Pays on time" not in shown and "upsell" not in shown and "Notes:" not in shown
        assert "Back door, ring twice" in shown  # the delivery instructions
        assert "Keep out of the sun" in shown and "Date on every box" in shown
        assert "(plan stop 7)" in shown
        assert "(map, opens in a new tab)" not in text  # the hidden link hint is not printed
    customer_id, _, address = driver_day["Elm Deli"]
    assert address.split(",")[0] in text  # the address prints as text
    path = tmp_path / "links.pdf"
    path.write_bytes(pdf.data)
    links = subprocess.run(["pdfinfo", "-url", str(path)], check=True, capture_output=True,
                           text=True).stdout  # the PDF keeps the links (tap them on a phone)
    assert "tel:+1312" in links and "https://www.google.com/maps/search/?api=1&query=" in links
    assert f"http://localhost/delivery/customers/{customer_id}" in links
