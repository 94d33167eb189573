"""Staff accounts: password hashing (argon2id), sign-in with lockout, creation, disabling."""
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select

from crm.audit.services import record
from crm.auth.models import StaffUser
from crm.common import utcnow
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
    """The user whose credentials these are, or SignInError (one message for every failure).

    Failures are counted per account; LOCKOUT_THRESHOLD failures lock it for LOCKOUT_MINUTES.
    The caller commits (failure counts and audit events included).
    """
    global _DUMMY_HASH
    cfg = current_app.config
    user = find_by_email(email)
    now = utcnow()
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-real-password")
        _verify(_DUMMY_HASH, password)
        record("sign_in_failed", "staff_user", None, actor=None)
        raise SignInError("Email or password is not right.")
    if user.locked_until and user.locked_until > now:
        record("sign_in_locked", "staff_user", user.id, actor=None)
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise SignInError(
            f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}."
        )
    if not _verify(user.password_hash, password) or not user.active:
        user.failed_sign_ins += 1
        if user.failed_sign_ins >= cfg["LOCKOUT_THRESHOLD"]:
            user.locked_until = now + timedelta(minutes=cfg["LOCKOUT_MINUTES"])
            user.failed_sign_ins = 0
        record("sign_in_failed", "staff_user", user.id, actor=None)
        raise SignInError("Email or password is not right.")
    if hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_sign_ins, user.locked_until, user.last_sign_in_at = 0, None, now
    record("sign_in", "staff_user", user.id, actor=user)
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(email: str, name: str, role: str, password: str, actor=None) -> StaffUser:
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


def disable_user(user: StaffUser, actor=None):
    """Disable an account and end all its sessions (caller commits)."""
    user.active = False
    user.end_sessions()
    record("disable", "staff_user", user.id, actor=actor, fields=["active"])


def load_user(user_id: str):
    """Flask-Login loader: the id carries the session token, so rotated tokens sign out."""
    try:
        kind, pk, token = user_id.split(":", 2)
    except ValueError:
        return None
    if kind != "staff" or not pk.isdigit():
        return None
    user = db.session.get(StaffUser, int(pk))
    if user is None or not user.active or user.session_token != token:
        return None
    return user
