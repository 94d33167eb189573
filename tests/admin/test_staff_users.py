"""Admin › Staff users: adding users (the CLI's rules), role changes, disabling and
re-enabling (audited, ending sessions), the admin's own account and the last admin, edit
conflicts, and no names or emails in URLs, flashes or toasts."""
import html
import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from crm.audit.models import AuditEvent
from crm.auth.models import StaffUser
from crm.auth.services import StaffUserError, disable_user, find_by_email, update_staff_user
from crm.common import SYSTEM, Actor, ConflictError, utcnow
from crm.extensions import db
from tests.auth.test_sign_in import sign_in
from tests.conftest import Auth, session_cookie

USERS = "/admin/users/"
HTMX = {"HX-Request": "true"}
NEW = {"email": "Dana.Route@Farm.test", "name": "Dana Route", "role": "delivery",
       "password": "trays and crates", "password_again": "trays and crates"}


def edit_url(user_id):
    return f"/admin/users/{user_id}"


def version_on(html: str) -> str:
    match = re.search(r'name="version" type="hidden" value="(\d+)"', html)
    assert match, "no version field on the page"
    return match.group(1)


def change(auth, user_id, role, status="active", version=None, htmx=False):
    """Post the edit form as loaded now (or at `version`)."""
    page = auth.client.get(edit_url(user_id)).text
    data = {"role": role, "status": status,
            "version": version if version is not None else version_on(page)}
    return auth.post(edit_url(user_id), data, htmx=htmx)


def events(app, action=None):
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.entity_type == "staff_user")
        if action:
            query = query.where(AuditEvent.action == action)
        return db.session.scalars(query.order_by(AuditEvent.id)).all()


def user_row(app, user_id):
    with app.app_context():
        user = db.session.get(StaffUser, user_id)
        db.session.expunge(user)
        return user


def staff_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(StaffUser))


def signed_in_elsewhere(app, auth, role, email):
    """Another browser where a user of `role` is signed in; (their id, their client)."""
    user_id = auth.make_user(role, email)
    other = app.test_client()
    assert sign_in(other, email, auth.password).status_code == 302
    assert other.get("/customers/").status_code == 200
    return user_id, other


# -- the list ----------------------------------------------------------------------------------

def test_the_staff_page_lists_role_status_and_last_sign_in(app, client, auth):
    me = auth.sign_in("admin")
    never = auth.make_user("finance", "frankie@farm.test")
    with app.app_context():
        db.session.get(StaffUser, never).active = False
        db.session.commit()
    page = client.get(USERS)
    assert page.status_code == 200
    text = page.text
    assert "Admin Person" in text and "(you)" in text and "frankie@farm.test" in text
    assert "Finance" in text and "Disabled" in text and "Never" in text
    assert f'href="/admin/users/{me}"' in text and f'href="/admin/users/{never}"' in text
    signed_in = user_row(app, me).last_sign_in_at
    assert signed_in is not None and utcnow() - signed_in < timedelta(minutes=1)
    shown = signed_in.astimezone(ZoneInfo(app.config["FARM_TIMEZONE"]))
    assert f'data-label="Last signed in">{shown.strftime("%b %-d, %Y %-I:%M %p")}</td>' in text
    assert "flask users create" not in client.get("/admin/").text
    assert "/admin/users/" in client.get("/admin/").text


def test_only_admins_reach_the_staff_pages(app, client, auth):
    target = auth.make_user("viewer", "vic@farm.test")
    auth.sign_in("manager")
    assert client.get(USERS).status_code == 403
    assert client.get(edit_url(target)).status_code == 403
    assert auth.post(USERS, NEW, page="/customers/").status_code == 403
    assert staff_count(app) == 2


# -- adding a user -----------------------------------------------------------------------------

def test_an_admin_adds_a_staff_user_who_can_then_sign_in(app, client, auth):
    admin_id = auth.sign_in("admin")
    response = auth.post(USERS, NEW, htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == USERS
    with app.app_context():
        user = find_by_email("dana.route@farm.test")
        assert (user.name, user.role, user.active, user.version) == (
            "Dana Route", "delivery", True, 1)
        new_id = user.id
    [event] = [e for e in events(app, "create") if e.entity_id == new_id]
    assert (event.fields, event.actor) == (["email", "name", "role"], Actor.staff(admin_id))
    cookie = session_cookie(app, client)  # the flash waits in the cookie: signed, not secret
    assert f"Staff user #{new_id} added with the Delivery role." in cookie
    assert "Dana" not in cookie and "farm.test" not in cookie
    assert sign_in(app.test_client(), "dana.route@farm.test", NEW["password"]).status_code == 302


def test_a_short_password_gets_the_cli_message_and_the_typed_input_back(app, client, auth,
                                                                         runner):
    cli = runner.invoke(args=["users", "create", "x@farm.test", "--role", "sales"],
                        input="too short\n")
    assert cli.exit_code != 0
    message = cli.output.strip().removeprefix("Error: ")
    assert message == "The password must be at least 10 characters."
    auth.sign_in("admin")
    before = staff_count(app), len(events(app))
    response = auth.post(USERS, {**NEW, "password": "too short", "password_again": "too short"},
                         htmx=True)
    assert response.status_code == 422 and "<html" not in response.text
    text = response.text
    assert message in text
    assert re.search(r'id="password"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="password"',
                     text)
    assert 'value="Dana.Route@Farm.test"' in text and 'value="Dana Route"' in text
    assert '<option selected value="delivery">' in text
    assert "too short" not in text  # a password is never sent back
    assert (staff_count(app), len(events(app))) == before


@pytest.mark.parametrize("changes, message", [
    ({"email": "not-an-email"}, "That is not an email address."),
    ({"email": "ADMIN@farm.test"}, "A staff user with that email already exists."),
    ({"email": ""}, "Give the person's email address: they sign in with it."),
    ({"password_again": "trays and crates!"}, "The two passwords are not the same"),
    ({"role": "owner"}, "Not a valid choice."),
])
def test_other_bad_input_is_refused_keeping_what_was_typed(app, client, auth, changes, message):
    auth.sign_in("admin")
    before = staff_count(app)
    response = auth.post(USERS, {**NEW, **changes})
    assert response.status_code == 422 and "<html" in response.text  # the whole page
    assert message in html.unescape(response.text)
    assert 'value="Dana Route"' in response.text
    assert staff_count(app) == before


# -- role, disable, re-enable --------------------------------------------------------------------

def test_a_new_role_is_audited_and_ends_their_sessions(app, client, auth):
    admin_id = auth.sign_in("admin")
    sam, elsewhere = signed_in_elsewhere(app, auth, "sales", "sam@farm.test")
    response = change(auth, sam, "manager")
    assert response.status_code == 303 and response.headers["Location"] == USERS
    user = user_row(app, sam)
    assert (user.role, user.active, user.version) == ("manager", True, 2)
    assert elsewhere.get("/customers/").status_code == 302  # signed out
    [event] = events(app, "update")
    assert (event.entity_id, event.fields, event.actor) == (sam, ["role"], Actor.staff(admin_id))
    assert "Staff user #%d now has the Manager role. Their sessions have ended." % sam in (
        client.get(USERS).text)
    assert sign_in(elsewhere, "sam@farm.test", auth.password).status_code == 302  # may sign in


def test_disabling_and_re_enabling_are_audited_and_disabling_ends_sessions(app, client, auth):
    admin_id = auth.sign_in("admin")
    sam, elsewhere = signed_in_elsewhere(app, auth, "sales", "sam@farm.test")
    disabled = change(auth, sam, "sales", "disabled", htmx=True)
    assert disabled.status_code == 204 and disabled.headers["HX-Redirect"] == USERS
    assert "Staff user #%d disabled. Their sessions have ended." % sam in client.get(USERS).text
    assert elsewhere.get("/customers/").status_code == 302
    assert sign_in(elsewhere, "sam@farm.test", auth.password).status_code == 422

    enabled = change(auth, sam, "sales", "active")
    assert enabled.status_code == 303
    assert "Staff user #%d re-enabled: they can sign in again." % sam in client.get(USERS).text
    assert sign_in(elsewhere, "sam@farm.test", auth.password).status_code == 302
    assert [(e.action, e.fields, e.actor) for e in events(app) if e.entity_id == sam
            and e.action in ("disable", "enable")] == [
        ("disable", ["active"], Actor.staff(admin_id)), ("enable", ["active"], Actor.staff(admin_id))]
    assert user_row(app, sam).version == 3


def test_a_save_that_changes_nothing_says_so_and_keeps_sessions(app, client, auth):
    auth.sign_in("admin")
    sam, elsewhere = signed_in_elsewhere(app, auth, "sales", "sam@farm.test")
    assert change(auth, sam, "sales", "active").status_code == 303
    assert "Nothing changed." in client.get(USERS).text
    assert elsewhere.get("/customers/").status_code == 200
    assert user_row(app, sam).version == 1 and not events(app, "update")


def test_an_admin_cannot_demote_or_disable_themselves(app, client, auth):
    me = auth.sign_in("admin")
    auth.make_user("admin", "other-admin@farm.test")  # not the last admin: still refused
    page = client.get(edit_url(me)).text
    assert "This is your own account" in page and 'name="role"' not in page
    for role, status, message in (
            ("manager", "active", "You cannot change your own role: another admin has to."),
            ("admin", "disabled", "You cannot disable yourself: another admin has to.")):
        response = auth.post(edit_url(me), {"role": role, "status": status, "version": "1"},
                             page=edit_url(me), htmx=True)
        assert response.status_code == 422 and message in response.text
        assert "<html" not in response.text
    me_now = user_row(app, me)
    assert (me_now.role, me_now.active, me_now.version) == ("admin", True, 1)
    assert client.get("/admin/").status_code == 200  # still signed in, still an admin
    assert not [e for e in events(app) if e.action in ("update", "disable")]


def test_the_last_active_admin_cannot_be_disabled_or_demoted(app, runner, auth):
    only = auth.make_user("admin", "only-admin@farm.test")
    gone = auth.make_user("admin", "gone-admin@farm.test")
    with app.app_context():
        disable_user(db.session.get(StaffUser, gone), actor=SYSTEM)
        db.session.commit()
        user = db.session.get(StaffUser, only)
        for role, active in (("manager", True), ("admin", False)):
            with pytest.raises(StaffUserError, match=f"Staff user #{only} is the last active "
                                                     "admin: make someone else an admin first."):
                update_staff_user(user, role=role, active=active, expected_version=1,
                                  actor=SYSTEM)
            db.session.rollback()
        # a disabled admin is not one of the active admins: demoting them is fine
        assert update_staff_user(db.session.get(StaffUser, gone), role="viewer", active=False,
                                 expected_version=2, actor=SYSTEM) == ["role"]
        db.session.commit()
    cli = runner.invoke(args=["users", "disable", "only-admin@farm.test"])
    assert cli.exit_code != 0 and "last active admin" in cli.output
    user = user_row(app, only)
    assert (user.role, user.active) == ("admin", True)


def test_an_admin_can_disable_another_admin_while_one_stays(app, client, auth):
    auth.sign_in("admin")
    other, elsewhere = signed_in_elsewhere(app, auth, "admin", "second-admin@farm.test")
    assert change(auth, other, "admin", "disabled").status_code == 303
    assert elsewhere.get("/admin/").status_code == 302
    assert not user_row(app, other).active


# -- conflicts ---------------------------------------------------------------------------------

def test_a_stale_version_is_refused_with_409_and_their_values(app, client, auth):
    auth.sign_in("admin")
    sam = auth.make_user("sales", "sam@farm.test")
    loaded = version_on(client.get(edit_url(sam)).text)
    colleague = Auth(app, app.test_client())
    colleague.sign_in("admin", "colleague@farm.test")
    assert change(colleague, sam, "finance", "disabled").status_code == 303

    stale = auth.post(edit_url(sam), {"role": "manager", "status": "active", "version": loaded},
                      htmx=True)
    assert stale.status_code == 409 and "<html" not in stale.text
    assert "Another admin changed this staff user" in stale.text
    assert re.search(r"<dt>Role</dt><dd>Finance</dd>", stale.text)
    assert re.search(r"<dt>Status</dt><dd>Disabled: cannot sign in</dd>", stale.text)
    assert '<option selected value="manager">' in stale.text  # the choice is kept
    user = user_row(app, sam)
    assert (user.role, user.active, user.version) == ("finance", False, 2)

    again = auth.post(edit_url(sam), {"role": "manager", "status": "active",
                                      "version": version_on(stale.text)})
    assert again.status_code == 303  # a deliberate overwrite, after seeing theirs
    assert (user_row(app, sam).role, user_row(app, sam).active) == ("manager", True)


def test_a_missing_or_tampered_version_is_a_conflict(app, client, auth):
    auth.sign_in("admin")
    sam = auth.make_user("sales", "sam@farm.test")
    for version in ("", "x", "7"):
        response = auth.post(edit_url(sam), {"role": "viewer", "status": "active",
                                             "version": version})
        assert response.status_code == 409
    assert user_row(app, sam).role == "sales"


def test_two_saves_of_the_same_version_cannot_both_win(app, auth):
    """The version is moved on in the database (compare and set), so a save that checked the
    version just before another admin's save landed is still refused."""
    sam = auth.make_user("sales", "sam@farm.test")
    with app.app_context():
        user = db.session.get(StaffUser, sam)  # loaded at version 1...
        with db.engine.begin() as other:  # ...another admin's save lands meanwhile
            other.execute(update(StaffUser).where(StaffUser.id == sam)
                          .values(version=2, role="finance"))
        with pytest.raises(ConflictError) as conflict:
            update_staff_user(user, role="manager", active=True, expected_version=1,
                              actor=SYSTEM)
        assert (conflict.value.current.role, conflict.value.current.version) == ("finance", 2)
        db.session.rollback()
    assert user_row(app, sam).role == "finance" and not events(app, "update")


def test_signing_in_does_not_make_an_open_form_stale(app, client, auth):
    auth.sign_in("admin")
    sam = auth.make_user("sales", "sam@farm.test")
    loaded = version_on(client.get(edit_url(sam)).text)
    assert sign_in(app.test_client(), "sam@farm.test", auth.password).status_code == 302
    response = auth.post(edit_url(sam), {"role": "viewer", "status": "active",
                                         "version": loaded})
    assert response.status_code == 303 and user_row(app, sam).role == "viewer"


def test_toasts_name_users_by_id_and_role_only(app, client, auth):
    auth.sign_in("admin")
    sam = auth.make_user("sales", "sam@farm.test")
    response = change(auth, sam, "viewer", htmx=True)
    assert response.status_code == 204
    cookie = session_cookie(app, client)
    assert f"Staff user #{sam} now has the Viewer role." in cookie
    assert "sam@" not in cookie and "Sales Person" not in cookie
    assert "HX-Trigger" not in response.headers or "sam" not in json.loads(
        response.headers["HX-Trigger"])["toast"]["message"]
    assert edit_url(sam) == f"/admin/users/{sam}"  # the URL carries the id only


def test_an_unknown_user_is_404(client, auth):
    auth.sign_in("admin")
    assert client.get(edit_url(999999)).status_code == 404
