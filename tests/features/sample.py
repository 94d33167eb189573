"""A small feature used only by tests: its declaration alone must put it in place."""
from flask import Blueprint, render_template_string

from crm.features import Feature, Finder, Hit, NavItem, Tab
from crm.security.permissions import requires

bp = Blueprint("sample", __name__, url_prefix="/sample")


@bp.get("/")
@requires("sample.view")
def index():
    """The sample feature's page."""
    return render_template_string("Sample page")


@bp.get("/customers/<int:customer_id>")
@requires("sample.view")
def panel(customer_id):
    """The sample tab of a customer."""
    return render_template_string("Sample tab of {{ id }}", id=customer_id)


def sample_job(run, report, n):
    return {"n": n}


def count_badge(user):
    return 7


def refuse_held_accounts(kind, survivor, loser):
    if kind == "customer" and "Held" in loser.name:
        return "The sample feature holds this account; it cannot be merged away."
    return None


def sample_hits(q, *, user, limit):
    return [Hit("Sample 1", "/sample/", "a sample")] if q == "sample" else []


feature = Feature(
    name="sample",
    blueprints=(bp,),
    permissions={"sample.view": {"admin", "sales"}},
    nav=(NavItem("Samples", "sample.index", "sample.view", order=15,
                 badge="tests.features.sample:count_badge", badge_label="waiting"),),
    tabs=(Tab("sample", "Samples", "sample.panel", "sample.view", "customers/_overview.html",
              order=25),),
    jobs={"sample.job": "tests.features.sample:sample_job"},
    merge_veto="tests.features.sample:refuse_held_accounts",
    search=(Finder("samples", "Samples", "tests.features.sample:sample_hits", "sample.view",
                   order=15),),
)

