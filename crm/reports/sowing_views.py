"""The sowing and packing plan's page (/sowing), its print layout and its CSV."""
import csv
import io
from datetime import date, timedelta

from flask import Response, request
from sqlalchemy import func, select

from crm.catalogue.models import Product
from crm.common import farm_today
from crm.contacts.importing.columns import safe_cell
from crm.downloads import download_headers
from crm.extensions import db
from crm.reports import bp
from crm.reports.sowing import MAX_DAYS, MIN_DAYS, csv_rows, plan
from crm.security.permissions import requires
from crm.web import render

DAY_CHOICES = (MIN_DAYS, MAX_DAYS)  # a week or two
FURTHEST = 366  # days before or after today a plan may start


class PlanRequestError(ValueError):
    pass


def _args() -> tuple[date, int]:
    """(start, days) from ?start=YYYY-MM-DD&days=7|14 (tomorrow and 7 when left out); clear
    messages for anything else."""
    today = farm_today()
    raw = request.args.get("start", "").strip()
    if raw:
        try:
            start = date.fromisoformat(raw)
        except ValueError:
            raise PlanRequestError(f"“{raw[:20]}” is not a date; use YYYY-MM-DD, e.g. "
                                   f"{today + timedelta(days=1):%Y-%m-%d}.") from None
        if abs((start - today).days) > FURTHEST:
            raise PlanRequestError("Start within a year of today: the plan reads the orders, "
                                   "standing items and delivery plans there are now.")
    else:
        start = today + timedelta(days=1)
    raw_days = request.args.get("days", "").strip() or str(MIN_DAYS)
    if raw_days not in {str(d) for d in DAY_CHOICES}:
        raise PlanRequestError(f"Plan {MIN_DAYS} or {MAX_DAYS} days.")
    return start, int(raw_days)


def _ahead() -> date:
    """The first delivery day whose sowing is still ahead for the quickest variety (so a plan
    from it has something to sow from today on)."""
    quickest = db.session.scalar(select(func.min(Product.days_to_harvest)).where(
        Product.retired_at.is_(None))) or 7
    return farm_today() + timedelta(days=quickest)


def _values():
    return {"start": request.args.get("start", "")[:20], "days": request.args.get("days", "")[:4]}


def _refused(exc: PlanRequestError):
    """The page (or the plan's partial) with the message instead of a plan (422)."""
    return render("reports/sowing.html", "reports/_sowing_plan.html", 422, plan=None,
                  error=str(exc), values=_values(), day_choices=DAY_CHOICES, ahead=_ahead())


@bp.get("/sowing")
@requires("sowing.view")
def sowing():
    """Trays to sow per variety and day, and what to pack per delivery day, for 7 or 14 days."""
    try:
        start, days = _args()
    except PlanRequestError as exc:
        return _refused(exc)
    return render("reports/sowing.html", "reports/_sowing_plan.html", plan=plan(start, days),
                  error=None, values={"start": start.isoformat(), "days": str(days)},
                  day_choices=DAY_CHOICES, ahead=_ahead())


@bp.get("/sowing.csv")
@requires("sowing.view")
def sowing_csv():
    """The same plan as CSV: sowings, packing lines and container counts; formulas
    neutralised."""
    try:
        start, days = _args()
    except PlanRequestError as exc:
        return _refused(exc)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for values in csv_rows(plan(start, days)):
        writer.writerow([safe_cell(v) for v in values])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        **download_headers(f"sowing-plan-{start:%Y-%m-%d}-{days}-days.csv")})
