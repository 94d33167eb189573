"""The nightly job of the segments feature: every customer's categories computed again."""
from crm.segments.categories import refresh


def refresh_job(run, report):
    """segments_refresh: the categories of every non-archived customer, as of today (the
    job runner commits). Returns the counts (no personal data)."""
    report(5, "Computing categories")
    return refresh()
