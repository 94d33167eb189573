from crm.common import SYSTEM
from crm.credit.services import nightly


def nightly_job(run, report):
    """Newly overdue invoices alerted, automatic holds placed and lifted, limits looked at."""
    return nightly(actor=SYSTEM)
