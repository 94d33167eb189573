"""Report runs: requested by a staff user (or a schedule), run as an RQ job (crm.jobs) that
streams the report's rows into a CSV and a PDF stored in the database as encrypted chunks, kept
REPORT_EXPIRY_DAYS; downloaded only by whoever may still see them.

A run's files are offered only once `completed_at` is set, in the job's last commit: a worker
that dies mid-way leaves chunks that nobody is offered (the jobs sweep marks the run failed and
`cleanup` deletes them).
"""
import csv
import io
import os
import re
import string
from datetime import timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app, render_template
from sqlalchemy import delete, exists, insert, or_, select

from crm.common import utcnow
from crm.contacts.importing.columns import safe_cell
from crm.extensions import db
from crm.jobs.models import JobRun
from crm.jobs.services import enqueue
from crm.reports.catalog import ReportError, describe, get_report, loaded, stored
from crm.reports.models import ReportChunk, ReportEmail, ReportRead, ReportRun
from crm.security.encryption import encryption_keys
from crm.security.permissions import can

JOB_NAME = "report_run"
EXPIRY_DAYS = 30  # a run's files are deleted this long after it was requested
CHUNK_BYTES = 1 << 20  # the CSV is written to the database a megabyte at a time
PDF_MAX_ROWS = 100  # the PDF prints the first rows (WeasyPrint tables are slow); the CSV all
PROGRESS_EVERY = 20_000  # rows between progress reports
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


# -- encryption of the stored chunks ----------------------------------------------------------

def _aead(key: str) -> AESGCM:
    import hashlib

    return AESGCM(hashlib.sha256(b"crm:report-file:v1" + key.encode()).digest())


def seal_chunk(data: bytes) -> bytes:
    """AES-GCM under (a key derived from) the newest CRM_ENCRYPTION_KEYS key: IV | ciphertext."""
    iv = os.urandom(12)
    return iv + _aead(encryption_keys()[0]).encrypt(iv, data, b"report")


def open_chunk(sealed: bytes) -> bytes:
    for key in encryption_keys():
        try:
            return _aead(key).decrypt(sealed[:12], sealed[12:], b"report")
        except InvalidTag:
            continue
    raise ValueError("no configured key opens this report file")


# -- requesting, seeing, downloading ----------------------------------------------------------

def request_run(report_key: str, params: dict, user, *, actor, role: str | None = None,
                schedule_id: int | None = None) -> ReportRun:
    """Add a run of the report with validated `params` for `user` (or, scheduled, for a role)
    and enqueue its job (ids only). ReportError if the user may not run it. Never commits."""
    report = get_report(report_key)
    if not report.allowed(user):
        raise ReportError("You may not run this report: it shows what your role does not see.")
    run = ReportRun(report_key=report.key, params=stored(params), owner_id=user.id, role=role,
                    schedule_id=schedule_id, expires_at=utcnow() + timedelta(days=EXPIRY_DAYS))
    db.session.add(run)
    db.session.flush()
    run.job_run_id = enqueue(JOB_NAME, actor=actor, report_run_id=run.id).id
    return run


def visible(user):
    """Where-clause: the runs `user` may see — their own unscheduled-for-a-role ones, and
    those scheduled for their role — of reports they may still run."""
    from crm.reports.catalog import reports_for

    keys = [r.key for r in reports_for(user)]
    return (ReportRun.report_key.in_(keys),
            or_(ReportRun.owner_id == user.id, ReportRun.role == user.role),
            ReportRun.expires_at > utcnow())


def get_run(run_id: int, user) -> ReportRun | None:
    """A run the user may see (else None: the caller answers 404)."""
    return db.session.scalar(select(ReportRun).where(ReportRun.id == run_id, *visible(user)))


def history(user, limit: int = 50):
    """(run, job run) of the user's reports, newest first."""
    from crm.jobs.services import sweep_stale_runs

    sweep_stale_runs()
    return db.session.execute(
        select(ReportRun, JobRun).outerjoin(JobRun, JobRun.id == ReportRun.job_run_id)
        .where(*visible(user)).order_by(ReportRun.id.desc()).limit(limit)).all()


def inbox(user, limit: int = 50):
    """(run, read) of finished scheduled reports for the user or their role, newest first."""
    read = exists().where(ReportRead.run_id == ReportRun.id, ReportRead.user_id == user.id)
    return db.session.execute(
        select(ReportRun, read).where(*visible(user), ReportRun.schedule_id.is_not(None),
                                      ReportRun.completed_at.is_not(None))
        .order_by(ReportRun.completed_at.desc(), ReportRun.id.desc()).limit(limit)).all()


def unread_badge(user) -> int | None:
    """The nav badge: finished scheduled reports the user has not opened."""
    if not can(user, "reports.run"):
        return None
    read = exists().where(ReportRead.run_id == ReportRun.id, ReportRead.user_id == user.id)
    count = db.session.scalar(
        select(db.func.count()).select_from(ReportRun)
        .where(*visible(user), ReportRun.schedule_id.is_not(None),
               ReportRun.completed_at.is_not(None), ~read))
    return count or None


def mark_read(run, user):
    if not db.session.get(ReportRead, (run.id, user.id)):
        db.session.add(ReportRead(run_id=run.id, user_id=user.id))


def file_chunks(run, kind: str):
    """The file's decrypted chunks in order, read one at a time (for a streamed response)."""
    ids = db.session.scalars(select(ReportChunk.id).where(
        ReportChunk.run_id == run.id, ReportChunk.kind == kind).order_by(ReportChunk.seq)).all()
    for chunk_id in ids:
        data = db.session.scalar(select(ReportChunk.data).where(ReportChunk.id == chunk_id))
        yield open_chunk(data)


def file_name(run, kind: str) -> str:
    return f"{run.report_key}-report-{run.id}-{run.created_at:%Y-%m-%d}.{kind}"


def title(run) -> str:
    report = get_report(run.report_key)
    said = describe(report, loaded(run.params))
    return f"{report.title}{' — ' + said if said else ''}"


# -- the job ----------------------------------------------------------------------------------

_SAFE_START = frozenset(string.ascii_letters + string.digits + " ()#.,'\"&/_")


def _cell(value):
    """A CSV cell: numbers as they are, text made formula-safe (safe_cell) unless it starts
    with a character no formula starts with, or is a plain number ("-12.50")."""
    if value is None:
        return ""
    if type(value) is not str:
        return value
    if not value or value[0] in _SAFE_START or _NUMBER.fullmatch(value):
        return value
    return safe_cell(value)


def _write_chunk(run_id: int, kind: str, seq: int, data: bytes):
    db.session.execute(insert(ReportChunk).values(run_id=run_id, kind=kind, seq=seq,
                                                  data=seal_chunk(data)))


def report_job(job, progress, *, report_run_id: int) -> dict:
    """The job: stream the report's rows into CSV chunks (a megabyte each, encrypted), keep the
    first PDF_MAX_ROWS for the PDF, render it, and mark the run complete in the last commit."""
    import time

    from crm.auth.models import StaffUser

    started = time.perf_counter()
    run = db.session.get(ReportRun, report_run_id)
    report = get_report(run.report_key)
    user = db.session.get(StaffUser, run.owner_id)
    if user is None or not user.active or not report.allowed(user):
        raise ReportError("The report's owner may no longer run it.")
    params = loaded(run.params)
    columns = report.columns_for(params)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(columns)
    seq, size, count, printed = 0, 0, 0, []
    try:
        for row in report.rows(params, user):
            writer.writerow([_cell(v) for v in row])
            count += 1
            if len(printed) < PDF_MAX_ROWS:
                printed.append(row)
            if buffer.tell() >= CHUNK_BYTES:
                data = buffer.getvalue().encode()
                _write_chunk(run.id, "csv", seq, data)
                seq, size = seq + 1, size + len(data)
                buffer.seek(0)
                buffer.truncate()
            if count % PROGRESS_EVERY == 0:
                # rows of an unknown total: the bar creeps towards 90 %
                progress(min(90, 5 + count // PROGRESS_EVERY * 5), f"{count:,} rows written")
        data = buffer.getvalue().encode()
        if data or seq == 0:
            _write_chunk(run.id, "csv", seq, data)
            size += len(data)
        progress(92, f"{count:,} rows written; making the PDF")
        csv_s = time.perf_counter() - started
        pdf = _pdf(run, report, columns, printed, count)
        _write_chunk(run.id, "pdf", 0, pdf)
        run = db.session.get(ReportRun, report_run_id)
        run.row_count, run.pdf_rows, run.csv_size, run.pdf_size = (count, len(printed), size,
                                                                   len(pdf))
        run.completed_at = utcnow()
        if run.schedule_id is not None:
            _notify(run)
        progress(100, f"Ready: {count:,} rows")
    except Exception:
        db.session.rollback()
        drop_files(report_run_id)
        raise
    return {"rows": count, "csv_s": round(csv_s, 2),
            "pdf_s": round(time.perf_counter() - started - csv_s, 2)}


def _pdf(run, report, columns, rows, count) -> bytes:
    from crm.pdf import render, stylesheet

    html = render_template("reports/report_pdf.html", run=run, report=report, columns=columns,
                           rows=rows, count=count, title=title(run),
                           css=stylesheet(current_app.static_folder, "documents.css"))
    return render(html)


def _notify(run):
    """The outbox's "your report is ready": to the owner, or to each active holder of the
    role (by staff user id; the address is read when it is sent)."""
    from crm.auth.models import StaffUser

    if run.role:
        ids = db.session.scalars(select(StaffUser.id).where(StaffUser.role == run.role,
                                                            StaffUser.active)).all()
    else:
        ids = [run.owner_id]
    subject = f"Your report is ready: {title(run)}"[:200]
    for staff_id in ids:
        db.session.add(ReportEmail(staff_user_id=staff_id, run_id=run.id, subject=subject))


def drop_files(report_run_id: int):
    """Delete a run's chunks on a connection of its own (after a failure)."""
    with db.engine.begin() as connection:
        connection.execute(delete(ReportChunk).where(ReportChunk.run_id == report_run_id))


def cleanup(now=None) -> int:
    """Nightly: delete expired runs and their files, and the chunks of runs that never
    completed and whose job has ended (failed, or a worker that died). Returns runs deleted."""
    now = now or utcnow()
    expired = db.session.scalars(select(ReportRun.id).where(ReportRun.expires_at <= now)).all()
    ended = select(JobRun.id).where(JobRun.status.in_(("failed", "finished")))
    half = select(ReportRun.id).where(ReportRun.completed_at.is_(None),
                                      ReportRun.job_run_id.in_(ended))
    db.session.execute(delete(ReportChunk).where(
        or_(ReportChunk.run_id.in_(expired), ReportChunk.run_id.in_(half))))
    if expired:
        db.session.execute(delete(ReportRead).where(ReportRead.run_id.in_(expired)))
        db.session.execute(ReportEmail.__table__.update().where(
            ReportEmail.run_id.in_(expired)).values(run_id=None))
        db.session.execute(delete(ReportRun).where(ReportRun.id.in_(expired)))
    return len(expired)


def cleanup_job(job, progress) -> dict:
    """The nightly job around cleanup()."""
    return {"deleted": cleanup()}
