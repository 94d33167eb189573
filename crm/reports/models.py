"""Report runs and their stored files (encrypted chunks in the database), schedules, the inbox's
read marks and the report outbox."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.common import UTCDateTime, utcnow
from crm.extensions import db
from crm.jobs.models import JobRun


class ReportRun(db.Model):
    """One run of a report: whose, with which parameters (dates, ids, period names: never
    personal data), its job, and the files it made once complete (`completed_at`)."""

    __tablename__ = "report_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_key: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(20), index=True)  # scheduled for a role
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("report_schedule.id"), index=True)
    job_run_id: Mapped[int | None] = mapped_column(ForeignKey("job_run.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # files complete
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    row_count: Mapped[int | None]
    pdf_rows: Mapped[int | None]  # rows printed in the PDF (capped)
    csv_size: Mapped[int | None]
    pdf_size: Mapped[int | None]

    job = relationship(JobRun, viewonly=True)  # its job's status, progress and message


class ReportChunk(db.Model):
    """A piece of a run's CSV or PDF, AES-GCM encrypted (crm.reports.runs.seal_chunk)."""

    __tablename__ = "report_chunk"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("report_run.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(4))  # csv | pdf
    seq: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (UniqueConstraint("run_id", "kind", "seq", name="uq_report_chunk"),)


class ReportSchedule(db.Model):
    """A report run weekly or monthly at a farm-time HH:MM, for its owner or for a role, over
    a period relative to the run."""

    __tablename__ = "report_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_key: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # without from/to
    period: Mapped[str] = mapped_column(String(20))  # schedules.PERIODS
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(20))
    frequency: Mapped[str] = mapped_column(String(10))  # weekly | monthly
    weekday: Mapped[int | None]  # 0 = Monday
    day: Mapped[int | None]  # 1-28, or 0 = the month's last day
    at_time: Mapped[str] = mapped_column(String(5))  # HH:MM, farm time
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ReportRead(db.Model):
    """A staff user has opened an inbox report."""

    __tablename__ = "report_read"

    run_id: Mapped[int] = mapped_column(ForeignKey("report_run.id", ondelete="CASCADE"),
                                        primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), primary_key=True)


class ReportEmail(db.Model):
    """The report outbox: "your report is ready" for a staff user (by id; the address is read
    when it is sent). The credit outbox is per customer/contact, hence this one."""

    __tablename__ = "report_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("report_run.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(200))  # the report's title and period
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
