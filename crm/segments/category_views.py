"""The customer page's "Categories" card, and a segment's marketing list (consent respected)
as a summary page and a CSV download."""
import csv
import io
from datetime import datetime

from flask import Response, abort, request
from flask_login import current_user

from crm.audit.services import record
from crm.common import farm_zone
from crm.contacts.importing.columns import safe_cell
from crm.downloads import download_headers
from crm.extensions import db
from crm.security.permissions import requires
from crm.segments import bp
from crm.segments.categories import category_of, explain
from crm.segments.marketing import MARKETING_CHANNELS, csv_rows, marketing_contacts, summary
from crm.segments.models import Segment
from crm.segments.services import get_segment, segment_customer_ids
from crm.web import render

CATEGORY_LABELS = {"tier": "Value tier", "cadence": "Order cadence", "churn": "Churn risk",
                   "engagement": "Engagement", "rfm": "RFM score"}
EXPORT_PERMISSION = "contacts.export"  # the customer export's: the same people, the same care


def categories_card(customer):
    """The Overview card's context: every staff role that sees the customer sees it (amounts
    only through the `money` filter, for credit.amounts); the portal never renders it."""
    row = category_of(customer.id)
    return {"category": row, "category_labels": CATEGORY_LABELS,
            "category_words": explain(row) if row is not None else {}}


# -- a segment's marketing list --------------------------------------------------------------

def _segment(segment_id: int) -> Segment:
    """The segment, when the user may use it (crm.segments.services.get_segment); else 404."""
    segment = get_segment(segment_id, current_user)
    if segment is None:
        abort(404)
    return segment


def _channel() -> str:
    channel = request.args.get("channel", "email")
    return channel if channel in MARKETING_CHANNELS else "email"


@bp.get("/segments/<int:segment_id>/marketing")
@requires(EXPORT_PERMISSION)
def marketing(segment_id):
    """Who a campaign to the segment on a channel would reach, and who is left out and why."""
    segment = _segment(segment_id)
    channel = _channel()
    rows, left_out = marketing_contacts(segment_customer_ids(segment, current_user), channel)
    return render("segments/marketing.html", "segments/_marketing_summary.html",
                  segment=segment, channel=channel, channels=MARKETING_CHANNELS,
                  people=len(rows), left_out=left_out,
                  said=summary(rows, left_out, channel))


@bp.get("/segments/<int:segment_id>/marketing.csv")
@requires(EXPORT_PERMISSION)
def marketing_csv(segment_id):
    """The segment's marketing list on a channel as CSV: only people who may be contacted
    for marketing there; formulas neutralised; audited (the count, no personal data)."""
    segment = _segment(segment_id)
    channel = _channel()
    rows, left_out = marketing_contacts(segment_customer_ids(segment, current_user), channel)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for values in csv_rows(rows, channel):
        writer.writerow([safe_cell(v) for v in values])
    record("export", "segment", segment.id, actor=current_user.actor,
           fields=[f"marketing:{channel}", f"rows:{len(rows)}",
                   f"left_out:{sum(left_out.values())}"])
    db.session.commit()
    stamp = datetime.now(farm_zone()).strftime("%Y-%m-%d")
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        **download_headers(f"marketing-{channel}-segment-{segment.id}-{stamp}.csv")})
