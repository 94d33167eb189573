"""Credit: accounts (limit, terms, hold), invoices, payments, the ledger, aging, alerts, and
check_credit, the one decision on whether a customer may owe more."""
from flask import Blueprint

from crm.features import KEEP_SURVIVOR, Feature, NavItem, Tab

bp = Blueprint("credit", __name__)

feature = Feature(
    name="credit",
    blueprints=(bp,),
    views=("crm.credit.views", "crm.credit.documents", "crm.credit.import_views"),
    models=("crm.credit.models",),
    cli=("crm.credit.import_cli:credit_cli",),  # the credit group, with its import command
    jobs={"credit_nightly": "crm.credit.jobs:nightly_job"},
    periodic={"credit_nightly": ("credit_nightly", "0 2 * * *")},  # flask cron, farm time
    # a customer merged away keeps no credit account; one with books is never merged away
    merge={"credit_account": KEEP_SURVIVOR},
    merge_veto="crm.credit.services:merge_veto",
    nav=(NavItem("Credit", "credit.index", "credit.amounts", order=45,
                 badge="crm.credit.services:unseen_alerts_badge", badge_label="alerts"),),
    overview_sections=(("credit/_overview.html", "crm.credit.overview:credit_card"),),
    tabs=(Tab("credit", "Credit", "credit.panel", "credit.view", "credit/_panel.html",
              order=40),),
    permissions={
        # the credit status (OK / warning / on hold) and its reasons in words, no amounts
        "credit.view": {"admin", "manager", "sales", "finance"},
        # amounts: balances, limits, invoices, payments
        "credit.amounts": {"admin", "manager", "finance"},
        # limits, terms, holds, invoices and payments
        "credit.manage": {"admin", "manager", "finance"},
        # refunds, write-offs, reversals and confirming an order past a block
        "credit.adjust": {"admin", "finance"},
    },
)
