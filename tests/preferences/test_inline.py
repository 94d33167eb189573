"""The Preferences tab read first, edited on demand: each section read-only with an Edit that
swaps in its form (htmx), saving or cancelling swaps the read view back; without JavaScript an
edit page and a redirect back."""
import re

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.preferences.models import DeliveryPlan, StandingItem
from tests.conftest import csrf_from
from tests.preferences.test_tab import item, plan_data, post

HTMX = {"HX-Request": "true"}
SECTIONS = ("plan", "items", "likes", "pauses")
FORMS = ("plan-form", "item-form", "likes-form", "pause-form", "channels-form")




def forms_in(html):
    return [name for name in FORMS if re.search(rf'<form[^>]*class="[^"]*\b{name}\b', html)]


def test_every_section_is_read_only_for_an_editor_with_an_edit_link(client, auth, setup):
    customer_id, contact_id, _, _, _ = setup
    auth.sign_in("sales")
    tab = f"/customers/{customer_id}/preferences"
    html = client.get(tab).text
    assert forms_in(html) == []  # nothing but read views
    assert "<button" not in html.split('id="tab-heading"')[1].split('id="prefs-history"')[0]
    for name in SECTIONS:
        assert re.search(rf'<a class="button small" href="{tab}/{name}/edit" '
                         rf'hx-get="{tab}/{name}/edit" hx-target="#prefs-{name}"', html), name
    assert f'href="{tab}/contacts/{contact_id}/edit"' in html


@pytest.mark.parametrize("name, form", [("plan", "plan-form"), ("items", "item-form"),
                                        ("likes", "likes-form"), ("pauses", "pause-form")])
def test_edit_answers_the_section_with_its_form(client, auth, setup, name, form):
    customer_id, _, _, _, _ = setup
    auth.sign_in("sales")
    url = f"/customers/{customer_id}/preferences/{name}"
    html = client.get(url + "/edit", headers=HTMX).text
    assert "<html" not in html and html.lstrip().startswith('<section class="card inline-section')
    assert f'id="prefs-{name}"' in html and 'data-inline-focus="form"' in html
    assert forms_in(html) == [form]
    assert f'hx-post="{url}"' in html and f'hx-target="#prefs-{name}" hx-swap="outerHTML"' in html
    assert re.search(rf'<a class="button" href="{url}" hx-get="{url}"[^>]*>(Cancel|Done)', html)
    assert "data-inline-edit" not in html  # no Edit while editing


def test_saving_answers_the_read_view_with_a_toast_and_the_history(app, client, auth, setup):
    customer_id, _, _, _, route_id = setup
    auth.sign_in("sales")
    saved = post(auth, customer_id, "/plan", plan_data(route_id))
    assert saved.status_code == 200
    assert "Delivery plan saved." in saved.headers["HX-Trigger"]
    html = saved.text
    assert "<html" not in html and forms_in(html) == []
    assert 'id="prefs-plan"' in html and 'data-inline-focus="read"' in html
    assert "data-inline-edit" in html and "North route, stop 3" in html
    assert 'id="prefs-history" aria-labelledby="history-heading" hx-swap-oob="outerHTML"' in html
    with app.app_context():
        assert db.session.get(DeliveryPlan, customer_id).stop_order == 3


def test_cancel_answers_the_read_view(client, auth, setup):
    customer_id, contact_id, _, _, _ = setup
    auth.sign_in("sales")
    tab = f"/customers/{customer_id}/preferences"
    for url, section in ((f"{tab}/likes", "prefs-likes"),
                         (f"{tab}/contacts/{contact_id}", f"prefs-contact-{contact_id}")):
        html = client.get(url, headers=HTMX).text
        assert "<html" not in html and f'id="{section}"' in html and forms_in(html) == []
        assert 'data-inline-focus="read"' in html and "data-inline-edit" in html
        plain = client.get(url)  # a Cancel link followed without JavaScript
        assert plain.status_code == 303 and plain.headers["Location"] == f"{tab}#{section}"


def test_a_stale_version_is_a_conflict_answered_with_the_form(app, client, auth, setup):
    customer_id, _, _, _, route_id = setup
    auth.sign_in("sales")
    post(auth, customer_id, "/plan", plan_data(route_id))  # version 1
    post(auth, customer_id, "/plan", plan_data(route_id, stop_order="4", version="1"))
    stale = post(auth, customer_id, "/plan", plan_data(route_id, stop_order="9", version="1"))
    assert stale.status_code == 409 and "<html" not in stale.text
    assert forms_in(stale.text) == ["plan-form"] and 'id="prefs-plan"' in stale.text
    assert "Someone else saved this plan" in stale.text and 'value="9"' in stale.text
    assert 'name="version" type="hidden" value="2"' in stale.text  # saving again overwrites
    with app.app_context():
        assert db.session.get(DeliveryPlan, customer_id).stop_order == 4


def test_without_javascript_an_edit_page_and_a_redirect_back(app, client, auth, setup):
    customer_id, _, _, _, route_id = setup
    auth.sign_in("sales")
    tab = f"/customers/{customer_id}/preferences"
    page = client.get(f"{tab}/plan/edit")
    assert page.status_code == 200 and "<html" in page.text
    assert forms_in(page.text) == ["plan-form"]  # only that section open
    assert f'action="{tab}/plan"' in page.text and 'data-inline-focus' not in page.text
    token = csrf_from(page.text)
    refused = client.post(f"{tab}/plan", data=plan_data(route_id, window_end="06:00"),
                          headers={"X-CSRFToken": token})
    assert refused.status_code == 422 and "<html" in refused.text
    assert "The window ends before it starts." in refused.text
    saved = client.post(f"{tab}/plan", data=plan_data(route_id),
                        headers={"X-CSRFToken": token})
    assert saved.status_code == 303 and saved.headers["Location"] == f"{tab}#prefs-plan"
    back = client.get(tab).text
    assert "Delivery plan saved." in back and "North route, stop 3" in back
    assert forms_in(back) == []


def test_without_javascript_removing_keeps_the_section_open(app, client, auth, setup):
    customer_id, _, products, packaging, _ = setup
    auth.sign_in("sales")
    tab = f"/customers/{customer_id}/preferences"
    assert post(auth, customer_id, "/items", item(products, packaging)).status_code == 200
    with app.app_context():
        item_id = db.session.scalar(select(StandingItem.id))
    page = client.get(f"{tab}/items/edit").text
    assert f'action="{tab}/items/{item_id}/delete"' in page
    removed = client.post(f"{tab}/items/{item_id}/delete",
                          headers={"X-CSRFToken": csrf_from(page)})
    assert removed.status_code == 303 and removed.headers["Location"] == f"{tab}/items/edit"
    again = auth.post(f"{tab}/items", item(products, packaging), page=f"{tab}/items/edit",
                      htmx=True)
    with app.app_context():
        item_id = db.session.scalar(select(StandingItem.id))
    swapped = auth.post(f"{tab}/items/{item_id}/delete", page=f"{tab}/items/edit", htmx=True)
    assert again.status_code == swapped.status_code == 200
    assert forms_in(swapped.text) == ["item-form"] and 'data-inline-focus="heading"' in swapped.text
    assert "No standing items." in swapped.text


@pytest.mark.parametrize("role", ["viewer", "delivery", "finance"])
def test_a_role_that_may_not_edit_gets_no_edit(client, auth, setup, role):
    customer_id, contact_id, _, _, _ = setup
    auth.sign_in(role)
    tab = f"/customers/{customer_id}/preferences"
    html = client.get(tab).text
    assert "data-inline-edit" not in html and forms_in(html) == []
    assert f"{tab}/plan/edit" not in html
    assert client.get(f"{tab}/plan/edit", headers=HTMX).status_code == 403
    assert client.get(f"{tab}/contacts/{contact_id}/edit").status_code == 403
    assert client.get(f"{tab}/likes", headers=HTMX).status_code == 200  # reading is fine


def test_an_archived_customer_has_no_edit(app, client, auth, setup):
    customer_id, _, _, _, _ = setup
    auth.sign_in("manager")
    auth.post(f"/customers/{customer_id}/archive", page=f"/customers/{customer_id}")
    html = client.get(f"/customers/{customer_id}/preferences").text
    assert "data-inline-edit" not in html
    assert client.get(f"/customers/{customer_id}/preferences/plan/edit").status_code == 409


def test_substitutes_are_checkboxes_and_save(app, client, auth, setup):
    customer_id, _, products, packaging, _ = setup
    auth.sign_in("sales")
    html = client.get(f"/customers/{customer_id}/preferences/items/edit", headers=HTMX).text
    assert "<select multiple" not in html and 'multiple id="substitute_ids"' not in html
    group = re.search(r'<fieldset class="field checkboxes">\s*<legend>Acceptable substitutes'
                      r'</legend>(.*?)</fieldset>', html, re.S)
    assert group, "the substitutes are not a group of checkboxes"
    assert ('<input id="substitute_ids-0" name="substitute_ids" type="checkbox"'
            in group.group(1))
    two = [str(products["Pea shoots"]), str(products["Radish"])]
    saved = post(auth, customer_id, "/items", item(products, packaging, substitute_ids=two))
    assert saved.status_code == 200 and "Pea shoots, Radish" in saved.text
    with app.app_context():
        standing = db.session.scalar(select(StandingItem))
        assert sorted(p.name for p in standing.substitutes) == ["Pea shoots", "Radish"]


def seen_in(html, prefix=""):
    return re.search(rf'name="{prefix}seen" type="hidden" value="(\d+)"', html).group(1)


def test_likes_and_channels_changed_meanwhile_are_a_conflict(app, client, auth, setup):
    """No version column: the form carries the newest history entry it was loaded with."""
    customer_id, contact_id, products, _, _ = setup
    auth.sign_in("sales")
    tab = f"/customers/{customer_id}/preferences"
    likes = client.get(f"{tab}/likes/edit", headers=HTMX).text
    channels = client.get(f"{tab}/contacts/{contact_id}/edit", headers=HTMX).text
    prefix = f"c{contact_id}-"
    assert seen_in(likes) == "0" and seen_in(channels, prefix) == "0"
    # someone else saves both meanwhile
    assert post(auth, customer_id, "/likes", {"likes": [str(products["Basil"])]}).status_code == 200
    assert post(auth, customer_id, f"/contacts/{contact_id}",
                {prefix + "channels": ["sms"]}).status_code == 200
    stale = auth.post(f"{tab}/likes", {"likes": [str(products["Radish"])], "seen": "0"},
                      page=tab, htmx=True)
    assert stale.status_code == 409 and forms_in(stale.text) == ["likes-form"]
    assert "Someone else changed these likes and dislikes" in stale.text
    newer = seen_in(stale.text)
    assert int(newer) > 0  # saving again on purpose replaces theirs
    again = auth.post(f"{tab}/likes", {"likes": [str(products["Radish"])], "seen": newer},
                      page=tab, htmx=True)
    assert again.status_code == 200 and "Likes: Radish" in again.text
    refused = auth.post(f"{tab}/contacts/{contact_id}",
                        {prefix + "channels": ["email"], prefix + "seen": "0"}, page=tab,
                        htmx=True)
    assert refused.status_code == 409 and forms_in(refused.text) == ["channels-form"]
    assert "Someone else changed these channels" in refused.text
    with app.app_context():
        from crm.preferences.models import ContactPreference

        assert db.session.get(ContactPreference, contact_id).channels == "sms"
