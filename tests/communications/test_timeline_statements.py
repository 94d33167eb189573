"""The timeline's statements are built once per combination of filters and bind the filters'
values: every call gets its own rows, with times compared as the database stores them."""
from datetime import timedelta

from crm.common import utcnow
from crm.communications.models import Interaction
from crm.communications.services import _timeline_statement, decode_cursor, timeline
from crm.extensions import db
from tests import factories


def _add(customer_id, hours_ago, channel="call", **fields):
    entry = Interaction(customer_id=customer_id, channel=channel, direction="outbound",
                        body=f"{channel} {hours_ago} h ago",
                        occurred_at=utcnow() - timedelta(hours=hours_ago),
                        logged_by_kind="system", **fields)
    db.session.add(entry)
    return entry


def test_each_call_binds_its_own_values(app):
    with app.app_context():
        fern, oak = factories.customer("Little Fern Kitchen"), factories.customer("Oak & Ash")
        for hours in (1, 2, 3):
            _add(fern.id, hours)
        _add(oak.id, 5, "visit")
        db.session.commit()
        _timeline_statement.cache_clear()
        ferns, _ = timeline(customer_id=fern.id)
        oaks, _ = timeline(customer_id=oak.id)
        assert _timeline_statement.cache_info().currsize == 1  # the same statement
        assert [e.customer_id for e in ferns] == [fern.id] * 3
        assert [e.channel for e in oaks] == ["visit"]
        assert timeline(customer_id=fern.id, channel="visit")[0] == []
        assert len(timeline(customer_id=oak.id, channel="visit")[0]) == 1


def test_dates_and_the_cursor_compare_as_stored(app):
    with app.app_context():
        fern = factories.customer("Little Fern Kitchen")
        entries = [_add(fern.id, hours) for hours in (1, 2, 3, 4, 5)]
        db.session.commit()
        now = utcnow()
        since = timeline(customer_id=fern.id, since=now - timedelta(hours=2, minutes=30))[0]
        assert [e.id for e in since] == [entries[0].id, entries[1].id]
        until = timeline(customer_id=fern.id, until=now - timedelta(hours=3, minutes=30))[0]
        assert [e.id for e in until] == [entries[3].id, entries[4].id]
        first, cursor = timeline(customer_id=fern.id, limit=2)
        assert [e.id for e in first] == [entries[0].id, entries[1].id]
        assert decode_cursor(cursor)[1] == entries[1].id
        rest, end = timeline(customer_id=fern.id, before=cursor, limit=2)
        assert [e.id for e in rest] == [entries[2].id, entries[3].id]
        last, none = timeline(customer_id=fern.id, before=end, limit=2)
        assert [e.id for e in last] == [entries[4].id] and none is None
