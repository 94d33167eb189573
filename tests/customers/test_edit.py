from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.common import SYSTEM
from crm.customers.models import Customer
from crm.extensions import db
from tests import factories


def make(app, name="Osteria Verde", **fields):
    with app.app_context():
        return factories.customer(name, **fields).id


def edit_form(customer, **changes):
    return {"name": customer.name, "kind": customer.kind, "status": customer.status,
            "pricing_tier": customer.pricing_tier, "owner_id": "", "parent_number": "",
            "notes": customer.notes or "", "version": str(customer.version), **changes}


def load(app, customer_id):
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        db.session.expunge(customer)
        return customer


def test_edit_saves_changes_and_audits_field_names(app, client, auth):
    auth.sign_in("manager")
    cid = make(app)
    group = make(app, "Verde Group")
    response = auth.post(f"/customers/{cid}/edit", edit_form(
        load(app, cid), name="Osteria Verde Uptown", status="paused",
        parent_number=f"cust-{group}"))
    assert response.status_code == 303
    saved = load(app, cid)
    assert (saved.name, saved.status, saved.parent_id, saved.version) == (
        "Osteria Verde Uptown", "paused", group, 2)
    from tests.customers.test_list import search_url

    assert "Osteria Verde Uptown" in client.get(search_url(auth, "osteria upt")).text
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (event.action, event.entity_id) == ("update", cid)
        assert event.fields == ["name", "parent_id", "status"]


def test_stale_version_shows_conflict_and_overwrites_nothing(app, client, auth):
    auth.sign_in("sales")
    cid = make(app)
    mine = load(app, cid)  # I open the edit form at version 1
    with app.app_context():  # meanwhile a colleague saves
        other = db.session.get(Customer, cid)
        other.name, other.status = "Osteria Verde (Wicker Park)", "active"
        db.session.commit()
    response = auth.post(f"/customers/{cid}/edit", edit_form(mine, name="Osteria Nuova"),
                         htmx=True)
    assert response.status_code == 409
    assert "Someone else saved this customer while you were editing." in response.text
    assert "Osteria Verde (Wicker Park)" in response.text  # their value, shown
    assert 'value="Osteria Nuova"' in response.text  # my typing, kept
    assert load(app, cid).name == "Osteria Verde (Wicker Park)"  # nothing overwritten
    assert 'name="version" type="hidden" value="2"' in response.text


def test_edit_of_archived_or_missing_customer_is_refused(app, client, auth):
    auth.sign_in("manager")
    cid = make(app)
    assert auth.post(f"/customers/{cid}/archive", page=f"/customers/{cid}").status_code == 303
    page = client.get(f"/customers/{cid}/edit")
    assert page.status_code == 409 and "is archived" in page.text
    response = auth.post(f"/customers/{cid}/edit", edit_form(load(app, cid), name="Sneaky"),
                         page="/customers/")
    assert response.status_code == 409 and load(app, cid).name == "Osteria Verde"
    assert client.get("/customers/424242/edit").status_code == 404
    assert client.get("/customers/424242").status_code == 404


def test_archive_hides_from_list_and_restore_brings_back(app, client, auth):
    auth.sign_in("manager")
    cid = make(app, "Tidewater Oyster House")
    assert client.get(f"/customers/{cid}/archive").status_code == 405  # never over GET
    assert client.post(f"/customers/{cid}/archive").status_code == 400  # no CSRF token
    response = auth.post(f"/customers/{cid}/archive", page=f"/customers/{cid}")
    assert "archived" in client.get(response.headers["Location"]).text
    assert "Tidewater" not in client.get("/customers/").text
    assert "Tidewater" in client.get("/customers/?archived=1").text
    auth.post(f"/customers/{cid}/restore", page=f"/customers/{cid}")
    assert "Tidewater" in client.get("/customers/").text
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_id == cid, AuditEvent.entity_type == "customer")
            .order_by(AuditEvent.id)).all()
    assert actions == ["create", "archive", "restore"]


def test_archived_customer_cannot_become_a_parent(app, client, auth):
    auth.sign_in("manager")
    cid, parent = make(app), make(app, "Closed Group")
    auth.post(f"/customers/{parent}/archive", page=f"/customers/{parent}")
    response = auth.post(f"/customers/{cid}/edit",
                         edit_form(load(app, cid), parent_number=f"CUST-{parent:05d}"))
    assert response.status_code == 422 and "That customer is archived" in response.text


def test_race_lost_at_save_time_is_a_conflict_even_when_renaming(app):
    import pytest
    from sqlalchemy import update

    from crm.common import ConflictError
    from crm.customers.services import update_customer

    cid = make(app, "Race Track Diner")
    with app.app_context():
        mine = db.session.get(Customer, cid)  # loaded, version checked, then ...
        with db.engine.begin() as other:  # ... someone else commits first
            other.execute(update(Customer).where(Customer.id == cid)
                          .values(status="paused", version=Customer.version + 1))
        with pytest.raises(ConflictError):
            update_customer(mine, {"name": "Renamed Diner"}, expected_version=mine.version,
                            actor=SYSTEM)
        db.session.rollback()
        assert db.session.get(Customer, cid).name == "Race Track Diner"


def test_parent_accounts_cannot_form_a_loop(app, client, auth):
    auth.sign_in("manager")
    group, location = make(app, "Loop Group"), make(app, "Loop Location")
    assert auth.post(f"/customers/{location}/edit", edit_form(
        load(app, location), parent_number=f"CUST-{group:05d}")).status_code == 303
    response = auth.post(f"/customers/{group}/edit", edit_form(
        load(app, group), parent_number=f"CUST-{location:05d}"))
    assert response.status_code == 422
    assert "already one of this customer" in response.text
    assert load(app, group).parent_id is None


def test_edit_keeps_a_disabled_owner(app, client, auth):
    from crm.auth.models import StaffUser
    from crm.auth.services import disable_user

    auth.sign_in("manager")
    owner = auth.make_user("sales", "leaver@farm.test")
    cid = make(app, owner_id=owner)
    with app.app_context():
        disable_user(db.session.get(StaffUser, owner), actor=SYSTEM)
        db.session.commit()
    form = client.get(f"/customers/{cid}/edit").text
    assert "(disabled)" in form
    response = auth.post(f"/customers/{cid}/edit", edit_form(
        load(app, cid), status="paused", owner_id=str(owner)))
    assert response.status_code == 303 and load(app, cid).owner_id == owner


def test_tampered_version_and_impossible_ids_are_handled(app, client, auth):
    auth.sign_in("manager")
    cid = make(app)
    response = auth.post(f"/customers/{cid}/edit", edit_form(load(app, cid), version="abc"),
                         htmx=True)
    assert response.status_code == 409 and load(app, cid).version == 1
    assert client.get("/customers/99999999999999999999").status_code == 404
    assert client.get("/jobs/99999999999999999999").status_code == 404


def test_htmx_save_on_an_archived_customer_goes_back_to_its_page(app, client, auth):
    auth.sign_in("manager")
    cid = make(app)
    auth.post(f"/customers/{cid}/archive", page=f"/customers/{cid}")
    response = auth.post(f"/customers/{cid}/edit", edit_form(load(app, cid), name="Nope"),
                         page="/customers/", htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/customers/{cid}"
    assert "is archived; restore it to edit." in client.get(f"/customers/{cid}").text
