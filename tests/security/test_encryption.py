"""PII at rest: the raw database shows none of it; keys rotate; blind indexes find records."""
import os
import re
import subprocess
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Text, func, select, type_coerce
from sqlalchemy_utils.types.encrypted.encrypted_type import InvalidCiphertextError

from crm.auth.demo import STAFF
from crm.common import SYSTEM, Actor, utcnow
from crm.communications.demo import INTERACTIONS
from crm.contacts.models import Contact, ContactEmail
from crm.customers.models import Customer
from crm.customers.services import search_customers
from crm.demo.seed import seed
from crm.extensions import db
from crm.security import encryption
from crm.security.blind_index import email_index, name_tokens, query_tokens
from crm.security.rotation import rotate_keys
from tests.conftest import Auth


def raw_database_text(app) -> str:
    """Everything the database holds, as bytes on disk (SQLite) or a pg_dump (PostgreSQL)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        db.session.remove()
        dialect = db.engine.dialect.name
        if dialect == "sqlite":
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db.engine.dispose()
    if dialect == "sqlite":
        with open(urlsplit(url).path, "rb") as fh:
            return fh.read().decode("latin-1")
    parts = urlsplit(url.replace("+psycopg", ""))
    env = {**os.environ, "PGPASSWORD": parts.password or ""}
    return subprocess.run(
        ["pg_dump", "-h", parts.hostname, "-p", str(parts.port or 5432), "-U",
         parts.username or "postgres", "--data-only", parts.path.lstrip("/")],
        check=True, capture_output=True, text=True, env=env,
    ).stdout


def test_raw_database_contains_none_of_the_seeded_personal_data(app):
    with app.app_context():
        seed(weeks=4)  # the year of orders adds no personal data
        contacts = db.session.scalars(select(Contact)).all()
        secrets = {c.first_name for c in contacts} | {c.last_name for c in contacts}
        secrets |= {e.email for c in contacts for e in c.emails}
        secrets |= {p.phone for c in contacts for p in c.phones}
        secrets |= {p.phone[2:] for c in contacts for p in c.phones}  # without +1
        customers = db.session.scalars(select(Customer)).all()
        secrets |= {c.name for c in customers} | {c.notes for c in customers if c.notes}
        secrets |= {a.street for c in customers for a in c.addresses}
        secrets |= {a.delivery_instructions for c in customers for a in c.addresses
                    if a.delivery_instructions}
        secrets |= {email for email, _, _ in STAFF} | {name for _, name, _ in STAFF}
        secrets |= {text for row in INTERACTIONS for text in row[2:] if text}
        from crm.communications.models import Interaction

        assert db.session.scalars(select(Interaction)).first() is not None
    secrets = {s for s in secrets if s and len(s) >= 4}
    assert len(secrets) > 150  # the check is only worth something if it checks a lot
    dump = raw_database_text(app)
    assert "csa_member" in dump and "restaurant" in dump  # the dump is real and readable
    # Base64 ciphertext can spell a short name by chance ("Nora" did once); short values are
    # looked for outside long base64 runs, longer ones (no chance match) everywhere.
    outside_ciphertext = re.sub(r"[A-Za-z0-9+/]{40,}={0,2}", " ", dump)
    leaked = sorted(s for s in secrets if s in (dump if len(s) >= 6 else outside_ciphertext))
    assert leaked == []


def test_ciphertext_is_randomised_and_authenticated(app_ctx):
    assert encryption.encrypt("Maria Lopez") != encryption.encrypt("Maria Lopez")
    token = encryption.encrypt("Maria Lopez")
    assert encryption.decrypt(token) == ("Maria Lopez", 0)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(InvalidCiphertextError):
        encryption.decrypt(tampered)


def test_rotation_re_encrypts_everything_under_the_newest_key_and_can_resume(app):
    from tests import factories

    newest, older = app.config["CRM_ENCRYPTION_KEYS"]
    with app.app_context():
        app.config["CRM_ENCRYPTION_KEYS"] = [older]  # data written before the rotation
        try:
            for n in range(7):
                factories.customer(f"Rotation Farm {n}")
        finally:
            app.config["CRM_ENCRYPTION_KEYS"] = [newest, older]
        raw = db.session.scalars(select(type_coerce(Customer.name, Text))).all()
        assert all(encryption.decrypt(v)[1] == 1 for v in raw)

        calls = []

        def crash_after_first_table(progress, message):
            calls.append(message)
            if len(calls) == 1:
                raise KeyboardInterrupt  # stopped half-way

        with pytest.raises(KeyboardInterrupt):
            rotate_keys(batch_size=3, report=crash_after_first_table)
        db.session.rollback()
        first_table = calls[0].removeprefix("Re-encrypted ")
        totals = rotate_keys(batch_size=3)  # resumes: what the first run finished is skipped
        assert totals[first_table] == 0
        assert totals["customer"] == 7  # the names (these customers have no notes)
        assert totals["address"] == 7 * 2  # street and delivery instructions

        app.config["CRM_ENCRYPTION_KEYS"] = [newest]  # the old key can now be dropped
        try:
            db.session.expire_all()
            names = sorted(db.session.scalars(select(Customer.name)).all())
            assert names == [f"Rotation Farm {n}" for n in range(7)]
            assert db.session.scalar(select(func.count()).select_from(ContactEmail)) == 7
            assert rotate_keys() == {t: 0 for t in rotate_keys()}
        finally:
            app.config["CRM_ENCRYPTION_KEYS"] = [newest, older]


def test_rotate_keys_command(app, runner):
    from tests import factories

    with app.app_context():
        factories.customer("Command Farm")
    result = runner.invoke(args=["crypto", "rotate-keys"])
    assert result.exit_code == 0
    assert "Re-encrypted 0 values under the newest key." in result.output


def test_blind_indexes_are_keyed_and_normalised(app_ctx):
    assert email_index(" Chef@Example.COM ") == email_index("chef@example.com")
    assert len(email_index("chef@example.com")) == 32
    assert query_tokens("blu her") <= name_tokens("Blue Heron Bistro")
    assert query_tokens("Café") <= name_tokens("CAFE NANDU")
    assert not query_tokens("b")  # single letters are not stored or searched


def test_exact_email_and_number_lookup(app_ctx):
    from tests import factories

    made = factories.customer("Lookup Larder")
    email = made.contact_links[0].contact.emails[0].email
    assert search_customers(q=email.upper())[0] == [made]
    assert search_customers(q=made.number.lower())[0] == [made]
    assert search_customers(q=str(made.id))[0] == [made]


def test_url_seals_cannot_open_database_ciphertext(app, client, auth):
    me = Actor("staff", auth.sign_in("viewer"))
    with app.app_context():
        from crm.auth.models import StaffUser

        stored = db.session.scalar(select(type_coerce(StaffUser.email, Text)))
        assert encryption.unseal(encryption.seal("blu her", actor=me), actor=me) == "blu her"
        assert encryption.unseal(encryption.seal("x" * 101, actor=me), actor=me) is None
    as_url = stored.replace("+", "-").replace("/", "_").rstrip("=")
    page = client.get(f"/customers/?s={as_url}")
    assert page.status_code == 200
    assert "viewer@farm.test" not in page.text  # the database value stays sealed


SALES, OTHER = Actor("staff", 1), Actor("staff", 2)


def test_a_url_seal_opens_only_for_the_actor_who_made_it(app_ctx):
    token = encryption.seal("rosa@kitchen.example.com", actor=SALES)
    assert encryption.unseal(token, actor=SALES) == "rosa@kitchen.example.com"
    assert encryption.unseal(token, actor=OTHER) is None
    assert encryption.unseal(token, actor=Actor("portal", 1)) is None  # same id, other kind
    assert encryption.unseal(token, actor=SYSTEM) is None


def test_a_url_seal_expires_after_eight_hours(app_ctx, monkeypatch):
    now = utcnow()
    monkeypatch.setattr(encryption, "utcnow", lambda: now)
    token = encryption.seal("blu her", actor=SALES)

    def opened_at(later):
        monkeypatch.setattr(encryption, "utcnow", lambda: now + later)
        return encryption.unseal(token, actor=SALES)

    assert encryption.SEAL_MAX_AGE == timedelta(hours=8)
    assert opened_at(timedelta(hours=8) - timedelta(seconds=1)) == "blu her"
    assert opened_at(timedelta(hours=8, seconds=1)) is None
    assert opened_at(timedelta(days=400)) is None
    assert opened_at(-timedelta(hours=1)) is None  # sealed "in the future": not ours to trust


def _list_as(app, role):
    client = app.test_client()
    auth = Auth(app, client)
    auth.sign_in(role)
    return client, auth


def test_a_search_url_shows_another_user_nothing(app, monkeypatch):
    """A sales user's pushed search URL (from a log, a shared screen, browser history) opened
    by a viewer: no search, no plaintext; the sales user's own URL stops working after 8 h."""
    from crm.customers.models import Customer
    from tests import factories

    with app.app_context():
        wanted = factories.customer("Sought Bistro")
        factories.customer("Unrelated Deli")
        email = wanted.contact_links[0].contact.emails[0].email
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 2
    sales, sales_auth = _list_as(app, "sales")
    found = sales_auth.post("/customers/search", {"q": email}, page="/customers/", htmx=True)
    pushed = found.headers["HX-Push-Url"]
    assert email not in pushed
    mine = sales.get(pushed)
    assert f'value="{email}"' in mine.text and "Unrelated Deli" not in mine.text  # works for A

    viewer, _ = _list_as(app, "viewer")
    theirs = viewer.get(pushed)
    assert theirs.status_code == 200
    assert email not in theirs.text and "Unrelated Deli" in theirs.text  # an empty search
    for header in ("HX-Request", "HX-History-Restore-Request"):
        assert email not in viewer.get(pushed, headers={header: "true"}).text

    # The CSV export's sealed search: another manager's download is not narrowed by it.
    manager, manager_auth = _list_as(app, "manager")
    download = manager_auth.post("/contacts/export", {"q": "sought"}, page="/customers/",
                                 htmx=True).headers["HX-Redirect"]
    assert "Sought" in manager.get(download).text and "Unrelated" not in manager.get(download).text
    admin, _ = _list_as(app, "admin")
    assert "Unrelated Deli" in admin.get(download).text  # the whole list, not the search

    later = utcnow() + timedelta(hours=9)
    monkeypatch.setattr(encryption, "utcnow", lambda: later)
    expired = sales.get(pushed)
    assert email not in expired.text and "Unrelated Deli" in expired.text


def test_stored_format_is_sqlalchemy_utils_aes_gcm(app_ctx):
    from sqlalchemy_utils.types.encrypted.encrypted_type import AesGcmEngine

    upstream = AesGcmEngine()
    upstream._update_key(encryption.encryption_keys()[0])
    assert upstream.decrypt(encryption.encrypt("Chef Ana Nguyen")) == "Chef Ana Nguyen"
    assert encryption.decrypt(upstream.encrypt("Chef Ana Nguyen")) == ("Chef Ana Nguyen", 0)


def test_an_app_context_remembers_what_it_opened_and_nothing_else(app):
    """decrypt() opens a ciphertext once per app context; a new context, or another set of keys
    (a rotation), opens it again."""
    from crm.security import encryption

    with app.app_context():
        token = encryption.encrypt("Rosa Diaz")
    opened = []
    real = encryption._decrypt

    def counting(token, keys):
        opened.append(token)
        return real(token, keys)

    encryption._decrypt = counting
    try:
        with app.app_context():
            assert encryption.decrypt(token) == ("Rosa Diaz", 0)
            assert encryption.decrypt(token) == ("Rosa Diaz", 0)
            assert len(opened) == 1
            newest, older = app.config["CRM_ENCRYPTION_KEYS"]
            app.config["CRM_ENCRYPTION_KEYS"] = [older]
            try:
                with pytest.raises(InvalidCiphertextError):
                    encryption.decrypt(token)  # the newest key retired: not from memory
            finally:
                app.config["CRM_ENCRYPTION_KEYS"] = [newest, older]
        with app.app_context():
            assert encryption.decrypt(token) == ("Rosa Diaz", 0)
        assert len(opened) == 3
    finally:
        encryption._decrypt = real
