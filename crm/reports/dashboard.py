"""Dashboards: a user's widgets in order (their role's defaults until they change them), the
changes they make (add, remove, move, a widget's period, back to the defaults) and the widget
numbers, from the cache when they are dear to count. Plain functions; the caller commits.

Two tabs: every change names the layout it was made on (`seen`, the keys in order as that
page showed them); a change made on a layout that has changed since is refused (StaleLayout,
the view answers 409 with the dashboard as it is now), and the unique constraints on
dashboard_widget keep one widget per place whatever happens.
"""
import time
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from crm.common import farm_today, utcnow
from crm.extensions import db
from crm.reports.dashboard_models import DashboardWidget, WidgetCache
from crm.reports.widgets import WIDGETS, Widget, allowed, defaults_for, offered


class DashboardError(ValueError):
    pass


class StaleLayout(DashboardError):
    def __init__(self):
        super().__init__("Your dashboard was changed in another tab or window; here it is as "
                         "it is now. Make the change again if you still want it.")


@dataclass
class Placed:
    """A widget on a user's dashboard, with its period (already checked)."""

    widget: Widget
    period: str  # "" for a widget without periods

    @property
    def key(self):
        return self.widget.key


def _rows(user) -> list[DashboardWidget]:
    return list(db.session.scalars(select(DashboardWidget).where(
        DashboardWidget.user_id == user.id).order_by(DashboardWidget.position)))


def layout(user) -> list[Placed]:
    """The user's widgets in order: their own set, or their role's defaults when they have
    none. Widgets their role may not (or no longer) see are left out."""
    rows = _rows(user)
    if not rows:
        return [Placed(WIDGETS[k], WIDGETS[k].period_or_default(None))
                for k in defaults_for(user)]
    return [Placed(WIDGETS[r.key], WIDGETS[r.key].period_or_default(r.period))
            for r in rows if allowed(user, r.key)]


def layout_token(placed: list[Placed]) -> str:
    """What a page sends back with a change: the keys in the order it showed them."""
    return ",".join(p.key for p in placed)


def _check(user, seen: str | None) -> list[Placed]:
    current = layout(user)
    if seen is not None and seen != layout_token(current):
        raise StaleLayout()
    return current


def _write(user, placed: list[Placed]):
    """The user's whole set, written again in its new order (one DELETE and the INSERTs, so
    the unique places never clash on the way)."""
    db.session.execute(delete(DashboardWidget).where(DashboardWidget.user_id == user.id))
    db.session.add_all(DashboardWidget(user_id=user.id, key=p.key, position=i,
                                       period=p.period or None)
                       for i, p in enumerate(placed))
    try:
        db.session.flush()
    except IntegrityError:  # the other tab wrote the same user's set meanwhile
        db.session.rollback()
        raise StaleLayout() from None


def available(user, placed: list[Placed]) -> list[Widget]:
    """Widgets the user may add: those of their role not on the dashboard yet."""
    shown = {p.key for p in placed}
    return [w for w in offered(user) if w.key not in shown]


def add_widget(user, key: str, *, seen: str | None = None) -> Placed:
    current = _check(user, seen)
    if not allowed(user, key):
        raise DashboardError("That widget is not one you can add.")
    if any(p.key == key for p in current):
        raise DashboardError("That widget is on your dashboard already.")
    widget = WIDGETS[key]
    added = Placed(widget, widget.period_or_default(None))
    _write(user, [*current, added])
    return added


def remove_widget(user, key: str, *, seen: str | None = None) -> Widget:
    current = _check(user, seen)
    kept = [p for p in current if p.key != key]
    if len(kept) == len(current):
        raise DashboardError("That widget is not on your dashboard.")
    _write(user, kept)
    return WIDGETS[key]


def move_widget(user, key: str, direction: str, *, seen: str | None = None) -> int:
    """Move a widget one place up or down; returns its new place (0 first)."""
    current = _check(user, seen)
    at = next((i for i, p in enumerate(current) if p.key == key), None)
    if at is None:
        raise DashboardError("That widget is not on your dashboard.")
    if direction not in ("up", "down"):
        raise DashboardError("Move a widget up or down.")
    to = at - 1 if direction == "up" else at + 1
    if not 0 <= to < len(current):
        return at  # already first (or last): nothing to do
    current[at], current[to] = current[to], current[at]
    _write(user, current)
    return to


def set_period(user, key: str, period: str) -> tuple[Placed, bool]:
    """The widget's period; an unknown one is replaced by the widget's default. Returns the
    widget as placed and whether the period asked for was used."""
    current = layout(user)
    found = next((p for p in current if p.key == key), None)
    if found is None:
        raise DashboardError("That widget is not on your dashboard.")
    if not found.widget.periods:
        raise DashboardError(f"{found.widget.title} has no period to choose.")
    chosen = found.widget.period_or_default(period)
    found.period = chosen
    _write(user, current)
    return found, chosen == period


def reset(user):
    """Back to the role's defaults (the user's own set is forgotten)."""
    db.session.execute(delete(DashboardWidget).where(DashboardWidget.user_id == user.id))


# -- the numbers -------------------------------------------------------------------------------

@dataclass
class Shown:
    """A widget's numbers as shown: what its template needs, and when they were counted
    (None: just now, live)."""

    placed: Placed
    context: dict
    computed_at: datetime | None
    index: int = 0  # its place on the dashboard (0 first)


def _cached(widget: Widget, period: str, today: date, user, *, force=False):
    """(data, computed_at): from the cache while it is younger than the widget's max_age
    (a dear widget's however old: the refresh job recounts those), else counted and kept (a
    first view, or a cheap widget's cache past its age, counts it once)."""
    row = db.session.get(WidgetCache, (widget.key, period))
    now = utcnow()
    if row is not None and not force and (widget.dear or now - row.computed_at <= widget.max_age):
        return row.data, row.computed_at
    data = widget.data(period or None, today, user)
    try:
        with db.session.begin_nested():
            if row is None:
                db.session.add(WidgetCache(key=widget.key, period=period, computed_at=now,
                                           data=data))
            else:
                row.data, row.computed_at = data, now
    except IntegrityError:  # another request kept the same numbers meanwhile
        pass
    return data, now


def prefetch(placed: list[Placed]):
    """Load the cache rows of these widgets in one query (the identity map then answers
    widget_data's look-ups without asking the database again)."""
    keys = [p.key for p in placed if p.widget.shared and p.widget.max_age is not None]
    if keys:
        db.session.scalars(select(WidgetCache).where(WidgetCache.key.in_(keys))).all()


def shown_widgets(placed: list[Placed], user, today: date | None = None) -> list[Shown]:
    """Every widget of a dashboard with its numbers, in order."""
    today = today or farm_today()
    prefetch(placed)
    found = [widget_data(p, user, today) for p in placed]
    for i, shown in enumerate(found):
        shown.index = i
    return found


def widget_data(placed: Placed, user, today: date | None = None) -> Shown:
    today = today or farm_today()
    widget = placed.widget
    period = placed.period
    if widget.shared and widget.max_age is not None:
        data, computed_at = _cached(widget, period, today, user)
    else:
        data, computed_at = widget.data(period or None, today, user), None
    return Shown(placed, widget.present(data, period or None, user), computed_at)


def refresh(today: date | None = None, echo=None) -> dict:
    """Count every cached widget for every period again (the nightly job and `flask reports
    refresh`); the caller commits. Returns {key: seconds}."""
    today = today or farm_today()
    timings = {}
    for widget in WIDGETS.values():
        if not (widget.shared and widget.max_age is not None):
            continue
        started = time.monotonic()
        for period in widget.periods or ("",):
            _cached(widget, period, today, None, force=True)
        timings[widget.key] = round(time.monotonic() - started, 3)
        if echo:
            echo(f"{widget.key}: {timings[widget.key]} s")
    return timings


def refresh_job(run, report):
    """reports.refresh_dashboards (nightly, after the categories): every cached widget counted
    again as of today (the job runner commits). Returns {widget key: seconds}."""
    report(5, "Counting the dashboard widgets")
    return refresh()

