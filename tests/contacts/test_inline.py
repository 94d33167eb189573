"""The Contacts tab read first, edited on demand: each person and address read-only with an Edit
that swaps in its form (htmx) and back; adding folds open; without JavaScript an edit page and
a redirect back."""
import re

from sqlalchemy import select

from crm.contacts.models import Contact
from crm.customers.models import Address
from crm.extensions import db
from tests.conftest import csrf_from
from tests.contacts.test_people import HTMX, edit_form, made, post


def address_of(app, customer_id):
    with app.app_context():
        return db.session.scalar(select(Address.id).where(Address.customer_id == customer_id))


def address_data(place_id, html, **changes):
    version = re.search(rf'name="address-{place_id}-version" type="hidden" value="(\d+)"',
                        html).group(1)
    values = {"kind": "delivery", "street": "14 Elm St", "city": "Chicago", "region": "IL",
              "postal_code": "60614", "country": "US", "version": version, **changes}
    return {f"address-{place_id}-{k}": v for k, v in values.items()}


def open_forms(html):
    """The edit forms shown (the add forms fold away in <details>)."""
    return re.findall(r'<form[^>]*class="inline-edit-form ([\w-]+)"', html)


def test_people_and_addresses_are_read_only_with_edit_for_an_editor(app, client, auth):
    auth.sign_in("sales")
    customer_id, rosa_id = made(app, "North Deli")
    place_id = address_of(app, customer_id)
    tab = f"/customers/{customer_id}/contacts"
    html = client.get(tab).text
    assert open_forms(html) == []
    assert re.search(rf'<article class="contact inline-section" id="contact-{rosa_id}"', html)
    assert (f'href="{tab}/{rosa_id}/edit" hx-get="{tab}/{rosa_id}/edit" '
            f'hx-target="#contact-{rosa_id}" hx-swap="outerHTML"') in html
    edit = f"/customers/{customer_id}/addresses/{place_id}/edit"
    assert f'href="{edit}" hx-get="{edit}" hx-target="#address-{place_id}"' in html
    # adding is on demand too: folded, and open again when it was refused
    assert re.search(r'<details class="add-form" data-focus-on-open="#first_name">\s*'
                     r'<summary class="button">Add a person</summary>', html)
    refused = post(auth, tab, {"first_name": "", "role": "kitchen"}, tab)
    assert refused.status_code == 422 and '<details class="add-form" open' in refused.text


def test_editing_a_person_in_place(app, client, auth):
    auth.sign_in("sales")
    customer_id, rosa_id = made(app, "North Deli")
    tab = f"/customers/{customer_id}/contacts"
    form = client.get(f"{tab}/{rosa_id}/edit", headers=HTMX).text
    assert "<html" not in form and form.lstrip().startswith("<article")
    assert open_forms(form) == ["contact-form"] and 'data-inline-focus="form"' in form
    assert f'hx-post="{tab}/{rosa_id}/edit" hx-target="#contact-{rosa_id}"' in form
    prefix, data = edit_form(client, tab, rosa_id)
    data[f"{prefix}-first_name"] = "Rosalind"
    saved = post(auth, f"{tab}/{rosa_id}/edit", data, tab)
    assert saved.status_code == 200 and "Saved." in saved.headers["HX-Trigger"]
    assert saved.text.lstrip().startswith(
        f'<article class="contact inline-section" id="contact-{rosa_id}"')
    assert open_forms(saved.text) == [] and "Rosalind" in saved.text
    assert 'data-inline-focus="read"' in saved.text and "data-inline-edit" in saved.text
    cancelled = client.get(f"{tab}/{rosa_id}", headers=HTMX)
    assert cancelled.status_code == 200 and open_forms(cancelled.text) == []
    assert f'id="contact-{rosa_id}"' in cancelled.text and "<html" not in cancelled.text
    plain = client.get(f"{tab}/{rosa_id}")
    assert plain.status_code == 303 and plain.headers["Location"] == f"{tab}#contact-{rosa_id}"


def test_a_stale_person_or_address_is_a_conflict_with_the_form(app, client, auth):
    auth.sign_in("sales")
    customer_id, rosa_id = made(app)
    place_id = address_of(app, customer_id)
    tab = f"/customers/{customer_id}/contacts"
    prefix, data = edit_form(client, tab, rosa_id)
    edit = f"/customers/{customer_id}/addresses/{place_id}/edit"
    address = address_data(place_id, client.get(edit, headers=HTMX).text)
    with app.app_context():
        db.session.get(Contact, rosa_id).notes = "Changed meanwhile"
        db.session.get(Address, place_id).street = "9 Changed St"
        db.session.commit()
    refused = post(auth, f"{tab}/{rosa_id}/edit", data, tab)
    assert refused.status_code == 409 and open_forms(refused.text) == ["contact-form"]
    assert "<html" not in refused.text and "Someone else saved" in refused.text
    moved = post(auth, edit, address, tab)
    assert moved.status_code == 409 and open_forms(moved.text) == ["address-form"]
    assert moved.text.lstrip().startswith(f'<article class="address inline-section editing" '
                                          f'id="address-{place_id}"')
    assert "Someone else saved this address" in moved.text


def test_without_javascript_an_edit_page_and_a_redirect_back(app, client, auth):
    auth.sign_in("sales")
    customer_id, _ = made(app)
    place_id = address_of(app, customer_id)
    tab = f"/customers/{customer_id}/contacts"
    edit = f"/customers/{customer_id}/addresses/{place_id}/edit"
    page = client.get(edit)
    assert page.status_code == 200 and "<html" in page.text
    assert open_forms(page.text) == ["address-form"] and f'action="{edit}"' in page.text
    saved = client.post(edit, data=address_data(place_id, page.text),
                        headers={"X-CSRFToken": csrf_from(page.text)})
    assert saved.status_code == 303 and saved.headers["Location"] == f"{tab}#address-{place_id}"
    back = client.get(tab).text
    assert "14 Elm St" in back and "Saved." in back and open_forms(back) == []
    cancel = client.get(f"/customers/{customer_id}/addresses/{place_id}")
    assert cancel.status_code == 303 and cancel.headers["Location"] == f"{tab}#address-{place_id}"


def test_a_viewer_gets_no_edit(app, client, auth):
    customer_id, rosa_id = made(app)
    auth.sign_in("viewer")
    tab = f"/customers/{customer_id}/contacts"
    html = client.get(tab).text
    assert "data-inline-edit" not in html and "Add a person" not in html
    assert client.get(f"{tab}/{rosa_id}/edit", headers=HTMX).status_code == 403
    assert client.get(f"{tab}/{rosa_id}", headers=HTMX).status_code == 200
