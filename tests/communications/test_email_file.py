"""Logging an email from an .eml file: sender matched by blind index, bad files refused."""
import re
import time
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from crm.communications.models import Interaction
from crm.extensions import db
from tests.communications.test_timeline import interactions
from tests.conftest import form_keys_from


def eml(sender="Rosa Tester1 <ROSA{n}@Kitchen.example.com>", n=1):
    msg = EmailMessage()
    msg["From"] = sender.format(n=n)
    msg["To"] = "Orders <orders@greenshoots.example.com>"
    msg["Subject"] = "Friday order: more sunflower"
    msg["Date"] = "Fri, 20 Nov 2026 08:15:00 -0600"
    msg.set_content("Please add 2 lb sunflower to Friday.\n<script>alert(1)</script>")
    return bytes(msg)


def upload(auth, customer_id, data, name="order.eml"):
    from io import BytesIO

    url = f"/customers/{customer_id}/communications/email-file"
    return auth.post(url, {"file": (BytesIO(data), name)}, htmx=True,
                     page=f"/customers/{customer_id}/communications/email-file")


def test_an_eml_becomes_an_inbound_email_from_the_matching_contact(app, client, auth,
                                                                   customer_id):
    auth.sign_in("sales")
    with app.app_context():
        from crm.customers.models import Customer

        customer = db.session.get(Customer, customer_id)
        contact = customer.contact_links[0].contact
        address = contact.emails[0].email
    response = upload(auth, customer_id, eml(sender=f"Rosa <{address.upper()}>"))
    assert response.status_code == 200, response.text
    assert "Friday order: more sunflower" in response.text
    assert "Please add 2 lb sunflower to Friday." in response.text
    assert "&lt;script&gt;" in response.text and "<script>alert" not in response.text
    assert f"Email logged from contact #{contact.id}." in response.headers["HX-Trigger"]
    assert "Rosa" not in response.headers["HX-Trigger"]
    with app.app_context():
        stored = db.session.scalar(select(Interaction))
        assert (stored.channel, stored.direction, stored.contact_id) == ("email", "inbound",
                                                                        contact.id)
        assert stored.occurred_at.hour == 14  # 08:15 -0600 is 14:15 UTC
        assert "orders@greenshoots.example.com" in stored.recipients


def test_an_unknown_sender_is_logged_without_a_contact(app, client, auth, customer_id):
    auth.sign_in("sales")
    response = upload(auth, customer_id, eml(sender="someone@elsewhere.example.com"))
    assert response.status_code == 200
    with app.app_context():
        stored = db.session.scalar(select(Interaction))
        assert stored.contact_id is None and stored.direction == "outbound"


def test_files_that_are_not_emails_are_refused_and_nothing_is_saved(app, client, auth,
                                                                    customer_id):
    auth.sign_in("sales")
    png = upload(auth, customer_id, b"\x89PNG\r\n\x1a\n" + bytes(200), "photo.eml")
    assert png.status_code == 422 and "This file is not an email" in png.text
    csv = upload(auth, customer_id, b"name,email\nRosa,rosa@example.com\n", "list.csv")
    assert csv.status_code == 422 and "This file is not an email" in csv.text
    empty = upload(auth, customer_id, b"", "empty.eml")
    assert empty.status_code == 422
    none = auth.post(f"/customers/{customer_id}/communications/email-file", {}, htmx=True,
                     page=f"/customers/{customer_id}/communications/email-file")
    assert none.status_code == 422 and "Choose an .eml file." in none.text
    future = upload(auth, customer_id, eml().replace(b"2026", b"2099"))
    assert future.status_code == 422 and "It cannot have happened in the future." in future.text
    assert interactions(app) == 0


def test_a_30_mb_file_is_refused_with_the_limit(app, client, auth, customer_id):
    auth.sign_in("sales")
    # A raw multipart body (the test client would spool a file this size to disk).
    head = (b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="big.eml"'
            b"\r\nContent-Type: message/rfc822\r\n\r\n")
    body = head + eml() + b"x" * (30 * 2**20) + b"\r\n--b0undary--\r\n"
    response = auth.post(f"/customers/{customer_id}/communications/email-file", body,
                         page=f"/customers/{customer_id}/communications/email-file", htmx=True,
                         content_type="multipart/form-data; boundary=b0undary")
    assert response.status_code == 413
    assert "larger than this form accepts (10 MB at most)" in response.text
    assert interactions(app) == 0


@pytest.mark.parametrize("name, data, message", [
    ("subject.eml", b"From: rosa@kitchen.example.com\r\nSubject: Order\r\n"
     + b" fresh pea shoots and sunflower for friday\r\n" * (int(7.5 * 2**20) // 44)
     + b"\r\nHi\r\n", "its headers are over 64 KB"),
    ("guests.eml", b"From: rosa@kitchen.example.com\r\nTo: "
     + b", ".join(b"Guest %d <guest%d@example.com>" % (i, i) for i in range(20_000))
     + b"\r\n\r\nHi\r\n", "its headers are over 64 KB"),
    ("parts.eml", b'From: rosa@kitchen.example.com\r\nContent-Type: multipart/mixed; boundary="b"'
     b"\r\n\r\n" + b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" * 20_000 + b"--b--\r\n",
     "it has over 100 parts (attachments and sections)"),
], ids=["7.5-MB-folded-subject", "20000-addresses", "20000-parts"])
def test_an_eml_past_the_limits_is_refused_on_the_form_quickly(app, client, auth, customer_id,
                                                               name, data, message):
    auth.sign_in("sales")
    # A raw multipart body: the test client would spool a file this size to disk and leave it open.
    page = client.get(f"/customers/{customer_id}/communications/email-file").text
    form = page[page.index('<form id="email-file-form"'):]
    keys = b"".join(b'--b0undary\r\nContent-Disposition: form-data; name="' + field.encode()
                    + b'"\r\n\r\n' + value.encode() + b"\r\n"
                    for field, value in form_keys_from(form[:form.index("</form>")]).items())
    body = (keys + b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="'
            + name.encode() + b'"\r\nContent-Type: message/rfc822\r\n\r\n' + data
            + b"\r\n--b0undary--\r\n")
    started = time.monotonic()
    response = auth.post(f"/customers/{customer_id}/communications/email-file", body,
                         page=f"/customers/{customer_id}/communications/email-file", htmx=True,
                         content_type="multipart/form-data; boundary=b0undary")
    elapsed = time.monotonic() - started
    assert response.status_code == 422
    assert f"This email is too large to read here: {message}. Log it by hand instead." in (
        response.text)
    assert "<details class=\"card email-file\" open" in response.text  # the form stays open
    assert interactions(app) == 0
    assert elapsed < 5, f"took {elapsed:.2f} s"  # minutes, 6 s and 3 s before the limits


def test_the_email_file_form_is_fetched_when_its_fold_opens(client, auth, customer_id):
    auth.sign_in("sales")
    tab = f"/customers/{customer_id}/communications"
    html = client.get(tab).text
    fold = re.search(r'<details class="card email-file"[^>]*>', html).group(0)
    assert " open" not in fold and f'hx-get="{tab}/email-file"' in fold
    assert 'id="email-file-form"' not in html
    assert f'<a href="{tab}/email-file#email-file-form">Open the form</a>' in html
    fragment = client.get(f"{tab}/email-file", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<form id="email-file-form"') and "<html" not in fragment
    page = client.get(f"{tab}/email-file").text  # without JavaScript: the tab, this fold open
    assert '<details class="card email-file" open>' in page and 'id="timeline"' in page
    assert '<details class="card quick-log-fold" hx-get=' in page  # the other stays folded
