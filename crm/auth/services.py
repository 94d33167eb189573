"""Staff accounts: password hashing (argon2id), sign-in with lockout, creation, disabling."""
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import bindparam, select, update

from crm.audit.services import record
from crm.auth.models import SignInThrottle, StaffUser
from crm.common import SYSTEM, parse_id, utcnow
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
    always checked, failures are counted per email, and LOCKOUT_THRESHOLD failures lock that
    email for LOCKOUT_MINUTES. The caller commits (failure counts and audit events included).
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
    """Add one failure in the database (not read-modify-write, so parallel guesses all count)."""
    if db.session.get(SignInThrottle, bidx) is None:
        db.session.add(SignInThrottle(email_bidx=bidx, failures=0))
        db.session.flush()
    db.session.execute(
        update(SignInThrottle)
        .where(SignInThrottle.email_bidx == bidx)
        .values(failures=SignInThrottle.failures + 1)
    )
    throttle = db.session.get(SignInThrottle, bidx, populate_existing=True)
    if throttle.failures >= cfg["LOCKOUT_THRESHOLD"]:
        throttle.failures = 0
        throttle.locked_until = now + timedelta(minutes=cfg["LOCKOUT_MINUTES"])


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(email: str, name: str, role: str, password: str, *, actor) -> StaffUser:
    """A new staff user (caller commits). ValueError on a bad role, email or password."""
    email = normalise_email(email)
    if role not in ROLES:
        raise ValueError(f"role must be one of: {', '.join(ROLES)}")
    if "@" not in email or len(email) > 254:
        raise ValueError("that is not an email address")
    if len(password) < 10:
        raise ValueError("the password must be at least 10 characters")
    if find_by_email(email):
        raise ValueError("a staff user with that email already exists")
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


def disable_user(user: StaffUser, *, actor):
    """Disable an account and end all its sessions (caller commits)."""
    user.active = False
    user.end_sessions()
    record("disable", "staff_user", user.id, actor=actor, fields=["active"])


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
