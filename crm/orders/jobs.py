"""The orders' background jobs. Their parameters are ids and flags only (crm.jobs): a day
travels as the integer YYYYMMDD (20261206 for December 6, 2026), readable in the RQ dashboard
and the logs; which customers deliver that day the job works out itself, so no customer's id
or name is ever in a job's arguments."""
from datetime import date, timedelta

from crm.common import SYSTEM, farm_today

CHUNK = 50  # customers per transaction: progress is reported (and committed) after each


def day_param(day: date) -> int:
    """A date as a job parameter: 2026-12-06 -> 20261206."""
    return day.year * 10_000 + day.month * 100 + day.day


def param_day(value: int) -> date:
    """A job parameter back to its date: 20261206 -> 2026-12-06 (ValueError if it is none)."""
    return date(value // 10_000, value // 100 % 100, value % 100)


def orders_for_date_job(run, report, day: int):
    """Make the day's orders: every customer delivering that day (by its plan and pauses, as
    the delivery sheet counts them) gets its order from its standing items, confirmed when
    credit allows; blocked, a draft with the reasons; one with an order already, or without
    standing items, skipped. Made by whoever started the run (its audit events name them)."""
    from crm.orders.services import orders_for_date
    from crm.preferences.schedule import customers_delivering

    on = param_day(day)
    ids = customers_delivering(on)
    made = {"confirmed": [], "blocked": [], "skipped": []}
    for start in range(0, len(ids), CHUNK):
        done = orders_for_date(on, ids[start:start + CHUNK], actor=run.owner)
        for key in made:
            made[key] += done[key]
        finished = min(start + CHUNK, len(ids))
        report(finished * 100 // len(ids), f"{finished} of {len(ids)} customers")  # commits
    return {"day": on.isoformat(), "customers": len(ids), "confirmed": len(made["confirmed"]),
            "blocked": len(made["blocked"]), "skipped": len(made["skipped"]),
            "blocked_orders": made["blocked"]}


def orders_cutoff_job(run, report, day: int | None = None):
    """The cut-off: tomorrow's (or `day`'s) confirmed orders asked about credit again; a
    blocked customer's go back to drafts (crm.orders.services.recheck_day)."""
    from crm.orders.services import recheck_day

    on = param_day(day) if day else farm_today() + timedelta(days=1)
    done = recheck_day(on, actor=SYSTEM)
    return {"day": on.isoformat(), "checked": done["checked"], "to_draft": len(done["to_draft"]),
            "kept": done["kept"], "overridden": done["overridden"],
            "draft_orders": done["to_draft"]}
