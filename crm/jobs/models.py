from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.common import Actor, UTCDateTime, actor_check, utcnow
from crm.extensions import db

JOB_STATUSES = ("queued", "running", "finished", "failed")


class JobRun(db.Model):
    """One run of a background job: who started it, where it is, what came of it."""

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # ids and flags only, never PII
    rq_job_id: Mapped[str | None] = mapped_column(String(64))
    # who started it (crm.common.Actor): a staff user, a portal user or the system
    owner_kind: Mapped[str] = mapped_column(String(10))
    owner_id: Mapped[int | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    progress: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # a running job says it is alive (crm.jobs.services); a stale one's worker is gone
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    started_by = relationship(  # the staff user who started it, if it was one
        "StaffUser", viewonly=True,
        primaryjoin="and_(foreign(JobRun.owner_id) == StaffUser.id, JobRun.owner_kind == 'staff')")

    __table_args__ = (actor_check("owner"),)

    @property
    def owner(self) -> Actor:
        return Actor.stored(self.owner_kind, self.owner_id)

    @property
    def done(self):
        return self.status in ("finished", "failed")

    @property
    def stuck_in_queue(self):
        """Queued for over a minute: most likely no worker is running."""
        return self.status == "queued" and (utcnow() - self.created_at).total_seconds() > 60
