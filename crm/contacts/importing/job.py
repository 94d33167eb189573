"""The background jobs: "contacts_import_check" checks a large upload for its preview once;
"contacts_import" checks a previewed upload again and writes it. They run the engine as the
package exports it (crm.contacts.importing)."""
import json
import time

from sqlalchemy import update

from crm.contacts import importing
from crm.contacts.importing import preview
from crm.contacts.models import ContactImport
from crm.extensions import db


def _progress_writer(run):
    """Progress of the write phase. The writes are one open transaction, so the job's report()
    (which commits) cannot be used; on PostgreSQL another connection updates the run's row.
    SQLite allows one writer at a time: there the bar waits at the write phase's start."""
    if db.engine.dialect.name == "sqlite":
        return None
    from crm.jobs.models import JobRun

    last = [0.0]

    def progress(done, total):
        now = time.monotonic()
        if now - last[0] < 0.5 and done < total:
            return
        last[0] = now
        with db.engine.begin() as connection:
            connection.execute(update(JobRun).where(JobRun.id == run.id).values(
                progress=30 + 65 * done // total, message="Writing customers and contacts"))

    return progress


def check_job(run, report, import_id: int):
    """Check an upload for its preview and store the result (crm.contacts.importing.preview);
    a file that cannot be used ends "unreadable" with the reason for its page."""
    imp = db.session.get(ContactImport, import_id)
    if imp is None or imp.status != "checking":
        return {"skipped": True}
    try:
        plan = preview.check_upload(imp, report)
    except importing.ImportFileError as exc:
        preview.clear(imp)
        imp.status, imp.checked = "unreadable", json.dumps({"error": str(exc)})
        run.message = "The file could not be read."
        return {"unreadable": True}
    run.message = f"Checked {len(plan.rows):,} rows."
    return plan.stats


def import_job(run, report, import_id: int):
    """Run a previewed import: check again (the database may have moved on), write everything in
    one transaction, keep the report, drop the file's content. The run has a session of its
    own: the caller's transaction committed before it started (crm.jobs.services.enqueue)."""
    imp = db.session.get(ContactImport, import_id)
    if imp is None:
        return {"error": "missing"}
    imp.status = "running"
    report(5, "Reading the file")
    parsed = importing.parse(imp.content, (imp.counts or {}).get("encoding", "UTF-8"),
                             imp.mapping)
    report(15, f"Checking {len(parsed.rows):,} rows")
    plan = importing.check(parsed, imp.on_duplicate, imp.skip_invalid, imp.default_kind)
    report(30, "Writing customers and contacts" if not plan.refused
           else "Refused: rows have errors")
    actor = imp.uploaded_by
    if plan.refused:
        imp.status = "refused"
    else:
        importing.apply(plan, actor=actor, progress=_progress_writer(run))
        imp.status = "imported"
        imp.content = ""  # the file is gone once imported; the report stays
    preview.clear(imp)  # the report says what became of every row now
    imp.report = importing.report_csv(plan)
    imp.counts = {**plan.counts, "encoding": parsed.encoding}
    importing.audit_run(plan, actor=actor, import_id=imp.id)
    run.message = importing.summary_line(plan.counts)
    return plan.counts
