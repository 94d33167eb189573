"""The "Possible duplicates" page: the scan job, candidate pairs, dismissals."""

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from crm.contacts import bp
from crm.contacts.duplicate_scan import AGAINST, MAX_PAIRS
from crm.contacts.duplicates import (
    PAGE_SIZE,
    dismiss,
    last_finished_scan,
    list_pairs,
    pair_counts,
    reason_words,
    scan_state,
    start_scan,
)
from crm.extensions import db
from crm.jobs.progress import poll_status
from crm.security.permissions import requires
from crm.toasts import redirect_with, toast
from crm.web import arg_id, wants_fragment

KINDS = {"contact": "People", "customer": "Customers"}


def _kind(value) -> str:
    return value if value in KINDS else "contact"


def _page(value) -> int:
    try:
        return min(max(int(value), 1), 10_000)
    except (TypeError, ValueError):
        return 1


def _list_context(kind: str, page: int, focus: str | None = None) -> dict:
    items, more = list_pairs(kind, page)
    return {"kind": kind, "kinds": KINDS, "page": page, "more": more, "items": items,
            "counts": pair_counts(), "page_size": PAGE_SIZE, "max_pairs": MAX_PAIRS,
            "reason_words": reason_words, "against": AGAINST, "focus": focus,
            "last_scan": last_finished_scan() if not items else None}


def _scan_context() -> dict:
    return {"scan": scan_state()}


@bp.get("/contacts/duplicates")
@requires("contacts.merge")
def duplicates():
    """Possible duplicates, best first: people or customers, a page at a time."""
    kind, page = _kind(request.args.get("kind")), _page(request.args.get("page"))
    if wants_fragment():
        # Tabs and pages move focus to the list's heading; a reload after a scan does not.
        return render_template("contacts/_duplicates_list.html", **_list_context(kind, page),
                               status_update=not request.args.get("reload"))
    return render_template("contacts/duplicates.html", **_list_context(kind, page),
                           **_scan_context())


def _pairs(count: int, of: str) -> str:
    return f"{count:,} pair{'s' if count != 1 else ''} of {of}"


def _scan_widget(status=200, finished_now=None, focus=False):
    """The scan component; when a scan has just finished, the list reloads and a toast says
    what it found. `focus`: it replaces the button just pressed, so focus moves into it."""
    response = render_template("contacts/_duplicates_scan.html", **_scan_context(),
                               focus=focus), status
    if finished_now is not None:
        result = finished_now.result or {}
        message = ("The scan failed; the error has been logged." if finished_now.status == "failed"
                   else f"Scan finished: {_pairs(result.get('contacts', 0), 'people')}, "
                        f"{_pairs(result.get('customers', 0), 'customers')}.")
        toast(message, "error" if finished_now.status == "failed" else "success",
              events={"duplicates-scanned": True})
    return response


@bp.route("/contacts/duplicates/scan", methods=["GET", "POST"])
@requires("contacts.merge")
def duplicates_scan():
    """The scan component: POST starts a scan (unless one runs); GET is its progress, polled
    by the component until the scan is done (286 stops the polling)."""
    if request.method == "POST":
        run = start_scan(actor=current_user.actor)
        db.session.commit()  # the scan starts once its run is saved
        if not wants_fragment():
            return redirect_with(url_for("contacts.duplicates"),
                                 "Scanning for duplicates." if not run.done else "Scan finished.")
        return _scan_widget(finished_now=run if run.done else None, focus=True)
    if not wants_fragment():
        return redirect(url_for("contacts.duplicates"))
    polled = arg_id("run")
    state = scan_state()
    last = None if state["running"] else state["failed"] or state["finished"]
    done_now = last if last is not None and polled == last.id else None
    return _scan_widget(status=poll_status(state["running"]), finished_now=done_now)


@bp.post("/contacts/duplicates/<any(contact, customer):kind>/<int:low_id>/<int:high_id>"
         "/dismiss")
@requires("contacts.merge")
def duplicates_dismiss(kind, low_id, high_id):
    """Not duplicates: the pair goes and is never suggested again (idempotent)."""
    done = dismiss(kind, low_id, high_id, actor=current_user.actor)
    if done is None:
        abort(404)
    db.session.commit()
    page = _page(request.form.get("page"))
    message = ("Noted: not duplicates. They will not be suggested again." if done
               else "Already marked as not duplicates.")
    if not wants_fragment():
        return redirect_with(url_for("contacts.duplicates", kind=kind, page=page), message)
    context = _list_context(kind, page, focus=request.form.get("position", type=int))
    if not context["items"] and page > 1:  # the last pair of the last page went
        context = _list_context(kind, page - 1, focus=PAGE_SIZE)
    toast(message)
    return render_template("contacts/_duplicates_list.html", **context)
