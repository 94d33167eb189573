"""Editing and deleting entries: own entries only (managers any), audited, recoverable by admins."""
from sqlalchemy import select, update

from crm.audit.models import AuditEvent
from crm.communications.models import Interaction
from crm.extensions import db
from tests.communications.test_timeline import entry, log_on_tab
from tests.conftest import Auth


def logged_entry(app, auth, customer_id, **changes):
    log_on_tab(auth, customer_id, entry(**changes), htmx=True)
    with app.app_context():
        return db.session.scalar(select(Interaction.id).order_by(Interaction.id.desc()))


def prefixed(entry_id, **changes):
    """The edit form's fields carry the entry's prefix (its ids differ from the quick log's)."""
    return {f"entry-{entry_id}-{k}": v for k, v in entry(**changes).items()}


def edit(auth, entry_id, **changes):
    page = f"/interactions/{entry_id}/edit"
    form = auth.client.get(page).text
    version = form.split(f'name="entry-{entry_id}-version" type="hidden" value="')[1].split('"')[0]
    return auth.post(page, prefixed(entry_id, version=version, **changes), page="/customers/",
                     htmx=True)


def audit_actions(app):
    with app.app_context():
        return db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_type == "interaction").order_by(AuditEvent.id)).all()


def test_edit_in_place_saves_and_is_audited(app, client, auth, customer_id):
    auth.sign_in("sales")
    entry_id = logged_entry(app, auth, customer_id)
    form = client.get(f"/interactions/{entry_id}/edit", headers={"HX-Request": "true"})
    assert form.status_code == 200 and 'value="Tuesday order"' in form.text
    assert "<html" not in form.text and f'id="entry-{entry_id}"' in form.text
    saved = edit(auth, entry_id, subject="Tuesday AND Friday order")
    assert saved.status_code == 200 and "Tuesday AND Friday order" in saved.text
    assert saved.text.strip().startswith("<li") and "Saved." in saved.headers["HX-Trigger"]
    assert audit_actions(app) == ["create", "update"]
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event.fields == ["subject"]


def test_bad_edit_is_explained_and_changes_nothing(app, client, auth, customer_id):
    auth.sign_in("sales")
    entry_id = logged_entry(app, auth, customer_id)
    response = edit(auth, entry_id, subject="x" * 201, body="Changed too")
    assert response.status_code == 422 and "200 characters at most (this has" in response.text
    assert "Changed too" in response.text  # what was typed is kept
    future = edit(auth, entry_id, occurred_at="2099-01-01T10:00")
    assert future.status_code == 422 and "It cannot have happened in the future." in future.text
    with app.app_context():
        assert db.session.scalar(select(Interaction.body)).startswith("Chef wants")


def test_a_stale_edit_is_a_conflict_not_an_overwrite(app, client, auth, customer_id):
    auth.sign_in("sales")
    entry_id = logged_entry(app, auth, customer_id)
    page = f"/interactions/{entry_id}/edit"
    client.get(page)
    with app.app_context():  # someone else saves first
        stored = db.session.get(Interaction, entry_id)
        stored.subject = "Their subject"
        db.session.commit()
    mine = auth.post(page, prefixed(entry_id, version="1", subject="My subject"),
                     page="/customers/", htmx=True)
    assert mine.status_code == 409
    assert "changed by someone else" in mine.text and "Their subject" in mine.text
    assert 'value="My subject"' in mine.text  # my input is kept
    with app.app_context():
        assert db.session.get(Interaction, entry_id).subject == "Their subject"
    # Saving again after seeing theirs is a deliberate overwrite.
    assert edit(auth, entry_id, subject="My subject").status_code == 200


def test_only_managers_change_other_peoples_entries(app, client, auth, customer_id):
    auth.sign_in("sales")
    entry_id = logged_entry(app, auth, customer_id)
    for role, allowed in (("finance", False), ("viewer", False), ("manager", True)):
        other = Auth(app, app.test_client())
        other.sign_in(role)
        page = other.client.get(f"/customers/{customer_id}/communications").text
        assert (f"/interactions/{entry_id}/edit" in page) is allowed, role
        assert (other.client.get(f"/interactions/{entry_id}/edit").status_code == 200) is allowed
        delete = other.post(f"/interactions/{entry_id}/delete",
                            page=f"/customers/{customer_id}/communications")
        assert (delete.status_code == 303) is allowed, role
        assert delete.status_code in (303, 403)


def test_deleted_entries_leave_the_timeline_and_an_admin_restores_them(app, client, auth,
                                                                      customer_id):
    auth.sign_in("sales")
    entry_id = logged_entry(app, auth, customer_id, subject="Soon deleted")
    tab = f"/customers/{customer_id}/communications"
    response = auth.post(f"/interactions/{entry_id}/delete", page=tab, htmx=True)
    assert response.status_code == 200 and "entry-" not in response.text  # the item goes
    assert "An admin can restore it." in response.headers["HX-Trigger"]
    assert "Soon deleted" not in client.get(tab).text
    assert client.get("/interactions/deleted").status_code == 403  # not for sales
    admin = Auth(app, app.test_client())
    admin.sign_in("admin")
    listing = admin.client.get("/interactions/deleted")
    assert "Soon deleted" in listing.text and "Restore" in listing.text
    assert "/interactions/deleted" in admin.client.get("/admin/").text
    restored = admin.post(f"/interactions/{entry_id}/restore", page="/interactions/deleted",
                          htmx=True)
    assert restored.status_code == 200
    assert "Soon deleted" in client.get(tab).text
    assert audit_actions(app) == ["create", "delete", "restore"]
    again = admin.post(f"/interactions/{entry_id}/restore", page="/interactions/deleted")
    assert again.status_code == 404  # nothing deleted to restore


def test_a_deleted_entry_cannot_be_edited(app, client, auth, customer_id):
    auth.sign_in("sales")
    entry_id = logged_entry(app, auth, customer_id)
    with app.app_context():
        db.session.execute(update(Interaction).values(deleted_at=db.func.now()))
        db.session.commit()
    assert client.get(f"/interactions/{entry_id}/edit").status_code == 404


def test_editing_keeps_a_contact_and_assignee_no_longer_offered(app, client, auth, customer_id):
    from crm.auth.models import StaffUser
    from crm.contacts.models import CustomerContact

    auth.sign_in("sales")
    colleague = auth.make_user("finance")
    contact = None
    with app.app_context():
        contact = db.session.scalar(select(CustomerContact.contact_id))
    entry_id = logged_entry(app, auth, customer_id, contact_id=str(contact),
                            follow_up_due="2026-12-01", follow_up_assignee_id=str(colleague))
    with app.app_context():  # since then: the contact left, the colleague was disabled
        db.session.execute(CustomerContact.__table__.delete())
        db.session.get(StaffUser, colleague).active = False
        db.session.commit()
    form = client.get(f"/interactions/{entry_id}/edit").text
    assert "(no longer linked)</option>" in form and "(inactive)</option>" in form
    saved = edit(auth, entry_id, contact_id=str(contact), follow_up_due="2026-12-01",
                 follow_up_assignee_id=str(colleague), subject="Typo fixed")
    assert saved.status_code == 200
    with app.app_context():
        stored = db.session.get(Interaction, entry_id)
        assert (stored.contact_id, stored.follow_up_assignee_id) == (contact, colleague)
        assert stored.subject == "Typo fixed"


def test_without_javascript_every_link_is_a_full_page(app, client, auth, customer_id):
    auth.sign_in("sales")
    entry_id = logged_entry(app, auth, customer_id)
    page = client.get(f"/interactions/{entry_id}/edit")
    assert page.status_code == 200 and "<html" in page.text and "Save" in page.text
    back = client.get(f"/interactions/{entry_id}")
    assert back.status_code == 303
    assert back.headers["Location"].endswith(f"/customers/{customer_id}/communications#entry-{entry_id}")
    timeline = client.get(f"/timeline?customer={customer_id}")
    assert "<html" in timeline.text and "Tuesday order" in timeline.text
    saved = auth.post(f"/interactions/{entry_id}/edit",
                      prefixed(entry_id, version="1", subject="Saved without htmx"),
                      page="/customers/")
    assert saved.status_code == 303
