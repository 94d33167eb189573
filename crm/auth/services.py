"""Staff accounts: password hashing (argon2id), sign-in with lockout, creation, role changes,
disabling and re-enabling."""
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import bindparam, or_, select, update

from crm.audit.services import record
from crm.auth.models import SignInThrottle, StaffUser
from crm.common import SYSTEM, ConflictError, parse_id, utcnow
from crm.extensions import db
from crm.security.blind_index import email_index, normalise_email
from crm.security.permissions import ROLES

# Verified against when the email is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = None


def hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def find_by_email(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.email_bidx == email_index(email)))


class SignInError(Exception):
    pass


def authenticate(email: str, password: str) -> StaffUser:
    """The user whose credentials these are, or SignInError.

    Every email, with or without an account, gets the same treatment: the password hash is
    always checked, failures are counted per email, and LOCKOUT_THRESHOLD failures within
    LOCKOUT_WINDOW_MINUTES lock that email for LOCKOUT_MINUTES (failures further apart never
    add up to a lockout). The caller commits (failure counts and audit events included).
    """
    global _DUMMY_HASH
    cfg = current_app.config
    bidx = email_index(email)
    user = db.session.scalar(select(StaffUser).where(StaffUser.email_bidx == bidx))
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-real-password")
    correct = _verify(user.password_hash if user else _DUMMY_HASH, password)
    now = utcnow()
    throttle = db.session.get(SignInThrottle, bidx)
    user_id = user.id if user else None
    if throttle and throttle.locked_until and throttle.locked_until > now:
        record("sign_in_locked", "staff_user", user_id, actor=SYSTEM)
        minutes = int((throttle.locked_until - now).total_seconds() // 60) + 1
        raise SignInError(
            f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}."
        )
    if not (correct and user.active):
        _count_failure(bidx, now, cfg)
        record("sign_in_failed", "staff_user", user_id, actor=SYSTEM)
        raise SignInError("Email or password is not right.")
    if throttle:
        db.session.delete(throttle)
    if hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = now
    record("sign_in", "staff_user", user.id, actor=user.actor)
    return user


def _count_failure(bidx: str, now, cfg):
    """Add one failure in the database (not read-modify-write, so parallel guesses all count),
    to the count of the current window, or to a new count once the window has passed."""
    if db.session.get(SignInThrottle, bidx) is None:
        db.session.add(SignInThrottle(email_bidx=bidx, failures=0))
        db.session.flush()
    window = now - timedelta(minutes=cfg["LOCKOUT_WINDOW_MINUTES"])
    # Only the first failure after the window passed restarts the count: a parallel one
    # finds the window already moved on and adds to it.
    db.session.execute(
        update(SignInThrottle)
        .where(SignInThrottle.email_bidx == bidx,
               or_(SignInThrottle.window_started_at.is_(None),
                   SignInThrottle.window_started_at <= window))
        .values(failures=0, window_started_at=now)
    )
    db.session.execute(
        update(SignInThrottle)
        .where(SignInThrottle.email_bidx == bidx)
        .values(failures=SignInThrottle.failures + 1)
    )
    throttle = db.session.get(SignInThrottle, bidx, populate_existing=True)
    if throttle.failures >= cfg["LOCKOUT_THRESHOLD"]:
        throttle.failures, throttle.window_started_at = 0, None
        throttle.locked_until = now + timedelta(minutes=cfg["LOCKOUT_MINUTES"])


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


MIN_PASSWORD_LENGTH = 10


class StaffUserError(ValueError):
    """A staff user change refused, with the message to show; `field`: the form field it is
    about (None for the form as a whole)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def create_user(email: str, name: str, role: str, password: str, *, actor) -> StaffUser:
    """A new staff user (caller commits). StaffUserError (a ValueError) on a bad role, email
    or password: the rules of `flask users create` and of Admin › Staff users alike."""
    email = normalise_email(email)
    if role not in ROLES:
        raise StaffUserError(f"The role must be one of: {', '.join(ROLES)}.", "role")
    if "@" not in email or len(email) > 254:
        raise StaffUserError("That is not an email address.", "email")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffUserError(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters.", "password")
    if find_by_email(email):
        raise StaffUserError("A staff user with that email already exists.", "email")
    user = StaffUser(
        email=email,
        email_bidx=email_index(email),
        name=name or email.split("@")[0],
        role=role,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    record("create", "staff_user", user.id, actor=actor, fields=["email", "name", "role"])
    return user


def update_staff_user(user: StaffUser, *, role: str, active: bool, expected_version: int,
                      actor) -> list[str]:
    """Give a staff user another role, disable or re-enable them (caller commits); the names
    of the fields changed ("role", "active"). A new role or disabling ends all their sessions.

    Refused (StaffUserError): a bad role; an admin changing their own role or disabling
    themselves; taking away the last active admin. ConflictError (holding the user as now
    saved) when another admin changed the user since `expected_version` was loaded, also when
    both save at the same moment.
    """
    if role not in ROLES:
        raise StaffUserError(f"The role must be one of: {', '.join(ROLES)}.", "role")
    if user.version != expected_version:
        raise ConflictError(user)
    changed = [name for name, value in (("role", role), ("active", active))
               if getattr(user, name) != value]
    if not changed:
        return []
    if actor.is_staff and actor.id == user.id:
        if "active" in changed:
            raise StaffUserError("You cannot disable yourself: another admin has to.", "active")
        raise StaffUserError("You cannot change your own role: another admin has to.", "role")
    if user.role == "admin" and user.active and not (role == "admin" and active):
        _keep_an_admin(user, "role" if "role" in changed else "active")
    _claim_version(user, expected_version)
    user.role, user.active = role, active
    user.end_sessions()  # a new role or disabling: what the old sessions could do is over
    if "role" in changed:
        record("update", "staff_user", user.id, actor=actor, fields=["role"])
    if "active" in changed:
        record("disable" if not active else "enable", "staff_user", user.id, actor=actor,
               fields=["active"])
    return changed


def _keep_an_admin(user: StaffUser, field: str):
    """Refuse to take away `user`, an active admin, when no other active admin remains. The
    active admins' rows are locked first (PostgreSQL), so two admins demoting each other at
    once cannot both succeed."""
    admins = db.session.scalars(
        select(StaffUser.id).where(StaffUser.role == "admin", StaffUser.active.is_(True))
        .with_for_update()).all()
    if not set(admins) - {user.id}:
        raise StaffUserError(
            f"Staff user #{user.id} is the last active admin: make someone else an admin "
            "first.", field)


def _claim_version(user: StaffUser, expected_version: int):
    """Move the user's version on in the database only if it is still `expected_version`
    (compare and set: of two saves of the same version, the second finds nothing to move and
    is a ConflictError)."""
    moved = db.session.execute(
        update(StaffUser).where(StaffUser.id == user.id, StaffUser.version == expected_version)
        .values(version=expected_version + 1))
    if moved.rowcount != 1:
        db.session.refresh(user)
        raise ConflictError(user)


def disable_user(user: StaffUser, *, actor):
    """Disable an account and end all its sessions (caller commits); the rules of
    update_staff_user (never the last active admin). Nothing when already disabled."""
    update_staff_user(user, role=user.role, active=False, expected_version=user.version,
                      actor=actor)


# Every signed-in request runs this: built once, it skips the statement building and cache-key
# work of session.get() (about 70 µs a request). The identity map still gives one object.
_USER_BY_ID = select(StaffUser).where(StaffUser.id == bindparam("id"))


def load_user(user_id: str):
    """Flask-Login loader: the id carries the session token, so rotated tokens sign out."""
    try:
        kind, pk, token = user_id.split(":", 2)
    except ValueError:
        return None
    pk = parse_id(pk)
    if kind != "staff" or pk is None:
        return None
    user = db.session.scalars(_USER_BY_ID, {"id": pk}).one_or_none()
    if user is None or not user.active or user.session_token != token:
        return None
    return user
