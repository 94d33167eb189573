from crm.security.rotation import reindex


def reindex_job(run, report):
    """Rebuild blind indexes and name-search tokens."""
    return reindex(report=report)
