import secrets
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from crm.common import Actor, UTCDateTime, utcnow
from crm.extensions import db
from crm.security.blind_index import blind_indexed
from crm.security.encryption import EncryptedString


def new_session_token() -> str:
    return secrets.token_urlsafe(16)


class StaffUser(db.Model):
    """A member of the farm's staff who signs in to the staff UI."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(EncryptedString(254))
    email_bidx: Mapped[str] = mapped_column(String(32), unique=True,
                                            info=blind_indexed("email", "email"))
    name: Mapped[str] = mapped_column(EncryptedString(120))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # Rotated at sign-out and on disabling: every cookie carrying the old one stops working.
    session_token: Mapped[str] = mapped_column(String(32), default=new_session_token)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Counts admins' changes (role, disabled) for edit conflicts (crm.auth.services
    # update_staff_user), not sign-ins or sign-outs: not a version_id_col, so signing in never
    # makes an admin's open form stale.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Flask-Login protocol
    is_anonymous = False

    @property
    def is_authenticated(self):
        return True

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        return f"staff:{self.id}:{self.session_token}"

    @property
    def actor(self) -> Actor:
        """This user as the actor of what they do (crm.common.Actor)."""
        return Actor.staff(self.id)

    def end_sessions(self):
        self.session_token = new_session_token()

    def __repr__(self):
        return f"<StaffUser {self.id} {self.role}>"


class SignInThrottle(db.Model):
    """Failed sign-ins per email (by blind index), known account or not, so a lockout never
    tells an attacker which emails have accounts. `failures` counts those since
    `window_started_at` (the first failure of the count); a failure once that window has
    passed starts a new count."""

    __tablename__ = "sign_in_throttle"

    email_bidx: Mapped[str] = mapped_column(String(32), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
