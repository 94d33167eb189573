"""A sheet's PDF is kept by the process that made it, named by its HTML: the same sheet again
is that PDF; any change is a new one; kept PDFs expire and are few."""
import pytest
from sqlalchemy import select

from crm import pdf as sheet_pdfs
from crm.extensions import db
from crm.preferences.models import DeliveryPlan
from tests.auth.test_sign_in import sign_in
from tests.delivery.test_sheets import DAY, route_day  # noqa: F401 (a fixture)

URL = f"/delivery/sheets.pdf?date={DAY}"
pytestmark = pytest.mark.usefixtures("route_day")


@pytest.fixture
def renders(monkeypatch):
    """The HTML of every PDF actually rendered."""
    sheet_pdfs.forget()
    made, real = [], sheet_pdfs.render

    def counting(html):
        made.append(html)
        return real(html)

    monkeypatch.setattr(sheet_pdfs, "render", counting)
    yield made
    sheet_pdfs.forget()


def test_the_same_sheet_again_is_the_pdf_already_made(app, client, auth, renders):
    auth.sign_in("delivery")
    first, again = client.get(URL), client.get(URL)
    assert (first.headers["X-Cache"], again.headers["X-Cache"]) == ("MISS", "HIT")
    assert first.data == again.data and len(renders) == 1
    other = app.test_client()  # another person, another role, the very same sheet
    auth.make_user("manager", "mo@farm.test")
    sign_in(other, "mo@farm.test", auth.password)
    assert other.get(URL).headers["X-Cache"] == "HIT" and len(renders) == 1


def test_any_change_to_a_stop_is_a_new_pdf(app, client, auth, renders):
    auth.sign_in("delivery")
    client.get(URL)
    with app.app_context():
        plan = db.session.scalar(select(DeliveryPlan).where(
            DeliveryPlan.special_handling.is_not(None)))
        plan.special_handling = "Ring the bell twice"
        db.session.commit()
    changed = client.get(URL)
    assert changed.headers["X-Cache"] == "MISS" and len(renders) == 2
    assert "Ring the bell twice" in renders[1] and "Ring the bell twice" not in renders[0]


def test_kept_pdfs_expire_and_are_few(app, client, auth, renders, monkeypatch):
    auth.sign_in("delivery")
    monkeypatch.setitem(app.config, "SHEET_PDF_CACHE_SECONDS", 0)
    client.get(URL)
    assert client.get(URL).headers["X-Cache"] == "MISS"  # 0 s: nothing kept
    monkeypatch.setitem(app.config, "SHEET_PDF_CACHE_SECONDS", 600)
    monkeypatch.setitem(app.config, "SHEET_PDF_CACHE_ENTRIES", 2)
    for route in ("North", "South", ""):
        client.get(f"{URL}&route={route}")
    assert len(sheet_pdfs._kept) == 2  # the oldest went
    assert client.get(f"{URL}&route=North").headers["X-Cache"] == "MISS"
    now = sheet_pdfs.time.monotonic()
    monkeypatch.setattr(sheet_pdfs.time, "monotonic", lambda: now + 601)
    assert client.get(f"{URL}&route=").headers["X-Cache"] == "MISS"  # expired
