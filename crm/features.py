"""Features declare themselves; the app factory walks one list of them.

A feature is a folder under crm/ whose __init__.py holds one `feature = Feature(...)`: its
blueprints and the modules that add their routes, its models, its permissions with the roles
holding them, navigation items (with an optional badge), customer-page tabs, background jobs,
CLI commands, demo-data step, merge rules, what the customer search and the header search
find through it, and the customer list's filters and bulk actions (ListFilter, list_actions).
Encrypted and blind-indexed columns are declared on the models themselves
(crm.security.rotation finds them there).

Adding a feature means writing its folder and naming it in crm.FEATURES; nothing else central
changes. Callables are named as "module:attribute" strings, loaded when the feature registers,
so a declaration imports nothing but this module and Flask.
"""
from dataclasses import dataclass, field
from importlib import import_module

from flask import current_app

from crm.common import load

KEEP_SURVIVOR = "keep_survivor"  # merge rule: where one row per record is allowed, keep the survivor's
RANK_TIERS = ("A", "B", "C")  # Feature.customer_rank's value tiers, most valuable first
RANK_RISKS = ("high", "rising", "low")  # and its churn risks, most at risk first


@dataclass(frozen=True)
class NavItem:
    """A link in the main navigation, shown to roles holding `permission`. `badge` names a
    function(user) -> int | None whose number is shown beside the label (loaded after the
    page, by one request for every badge)."""

    label: str
    endpoint: str
    permission: str
    order: int = 100
    badge: str | None = None
    badge_label: str = ""  # read after the number by screen readers, e.g. "overdue"
    # not shown to roles holding this permission too (they reach the page another way, e.g.
    # growing data from the catalogue's page), so the bar stays one row for the widest roles
    unless: str | None = None

    @property
    def id(self):
        return self.endpoint.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Tab:
    """A tab of the customer page: `endpoint` serves it (customer_id in the URL), `template`
    renders its panel inside customers/_tab.html."""

    key: str
    label: str
    endpoint: str
    permission: str
    template: str
    order: int = 100


@dataclass(frozen=True)
class CustomerFinder:
    """What a feature adds to the customer list's search, for roles holding `permission`
    (callers without a user, e.g. jobs and commands, get all of it):

    - `exact`: "module:function(q)" -> a select of customer ids when the feature recognises
      what was typed as its own (an email, a phone number, an invoice number): then only those
      customers are listed; None when it does not.
    - `tokens`: an entity type of search tokens the feature keeps for customers, keyed by
      the customer's id (contacts: "customer_people", the names of a customer's people), so
      the words typed also find customers by them, walking the token index in customer order
      as the customer's own name tokens are walked (crm.security.search).
    - `why`: "module:function(q, customer_ids, *, shorter)" -> {customer id: text}: why those
      customers of a page matched through this feature, in a few words and in fixed queries
      ("contact: Zoe R…"). `shorter` is the typo allowance (crm.security.blind_index).
    """

    permission: str
    exact: str | None = None
    tokens: str | None = None
    why: str | None = None


@dataclass(frozen=True)
class Hit:
    """One result of the header search: what it is, where it leads, and a short detail (why it
    matched, whose it is; never more personal data than the viewer may see anyway)."""

    label: str
    url: str
    detail: str = ""


@dataclass(frozen=True)
class Finder:
    """A kind of record the header search finds, shown as one group to roles holding
    `permission`. `find` names a function(q, *, user, limit) -> [Hit]: at most `limit`, best
    first, in a fixed number of queries (with its own typo allowance, if any). `more`: the
    endpoint listing all of them, given the search sealed as `s` (e.g. the customer list)."""

    key: str  # the group's id in the page, e.g. "people"
    label: str  # its heading, e.g. "People"
    find: str
    permission: str
    more: str | None = None
    order: int = 100


@dataclass(frozen=True)
class ListFilter:
    """A filter a feature adds to the customer list (one <select> each, for roles holding
    `permission`), kept in the list's URLs as `param` and honoured by its CSV export and bulk
    actions. Its values are ids (ASCII digits, crm.common.parse_id), so they can travel as a
    job's arguments.

    - `condition`: "module:function(value: int, user) -> a condition on Customer" (a SQL
      expression, e.g. an EXISTS correlated with the customer row, added to the list's WHERE,
      built per request: so the list, walking customers in its order, stops at its page
      instead of first finding every customer the filter holds); ValueError(message) when the
      value cannot be used (an unknown or deleted tag): the list shows the message, never a
      500. `user` is the staff user asking, or the one who started a job.
    - `choices`: "module:function(user) -> [(value, label)]" for the <select>.
    """

    param: str  # the query-string name, e.g. "tag"
    label: str  # the <select>'s label, e.g. "Tag"
    permission: str
    condition: str
    choices: str
    everything: str = "Any"  # the empty option, e.g. "Any tag"
    order: int = 100


@dataclass(frozen=True)
class Feature:
    name: str
    blueprints: tuple = ()
    views: tuple[str, ...] = ()  # modules whose import adds routes to the blueprints
    models: tuple[str, ...] = ()
    permissions: dict[str, set[str]] = field(default_factory=dict)
    nav: tuple[NavItem, ...] = ()
    tabs: tuple[Tab, ...] = ()
    jobs: dict[str, str] = field(default_factory=dict)  # job name -> "module:function"
    cli: tuple[str, ...] = ()  # "module:click command or group"
    demo: str | None = None  # "module:function", called as fn(farm) by `flask demo seed`
    # {table name: KEEP_SURVIVOR or "module:function(kind, survivor_id, loser_id)"}: what a
    # merge of two customers or contacts does with this feature's rows that point at them
    # (tables not named simply move to the survivor).
    merge: dict[str, str] = field(default_factory=dict)
    merge_veto: str | None = None  # "module:function(kind, a, b)" -> reason or None
    customer_finder: CustomerFinder | None = None  # what it adds to the customer search
    search: tuple[Finder, ...] = ()  # what the header search finds through it
    # sections of a contact's page: (template, "module:function(contact)" -> context or None)
    contact_sections: tuple[tuple[str, str], ...] = ()
    # cards at the top of a customer's Overview ("at a glance"), the same way:
    # (template, "module:function(customer)" -> context, or None for nothing to show)
    overview_sections: tuple[tuple[str, str], ...] = ()
    # "module:function(customer ids) -> minor units": what the customers have committed to
    # and will owe but is not invoiced yet (confirmed orders); credit limits count it
    owed_soon: str | None = None
    # filters of the customer list (with its export and bulk actions), e.g. "has tag X"
    list_filters: tuple[ListFilter, ...] = ()
    # what the customer list offers for the customers ticked (or all that match): each
    # (template, "module:function(listing)" -> context or None), rendered under the list;
    # `listing` is crm.customers.views.Listing (filters, search, the page's customers)
    list_actions: tuple[tuple[str, str], ...] = ()
    # "module:function()" -> a select of (customer_id, value_tier, churn_risk): each customer's
    # value tier (RANK_TIERS or NULL) and churn risk (RANK_RISKS or NULL), which lists of
    # other features (follow-ups, tickets) outer-join to sort and filter by service priority
    customer_rank: str | None = None
    # periodic work, run by `flask cron` (crm.jobs.cron, RQ's CronScheduler): {name: (what,
    # when)}. `what` is "module:function", called as fn(now) with now the aware UTC datetime
    # (the worker commits after it), or the name of a registered job (`jobs`), started as a
    # run of the system actor. `when` is a cron expression read in farm time (FARM_TIMEZONE),
    # which may name a config value in braces: "0 {ORDER_CUTOFF_HOUR} * * *".
    periodic: dict[str, tuple[str, str]] = field(default_factory=dict)
    setup: str | None = None  # "module:function(app)" for anything else at registration


@dataclass
class Registry:
    """What the registered features put in place, kept on the app."""

    features: list[Feature] = field(default_factory=list)
    nav: list[NavItem] = field(default_factory=list)
    tabs: dict[str, Tab] = field(default_factory=dict)
    demo_steps: list = field(default_factory=list)
    merge_rules: dict[str, object] = field(default_factory=dict)
    merge_vetoes: list = field(default_factory=list)
    customer_finders: list[CustomerFinder] = field(default_factory=list)
    finders: list[Finder] = field(default_factory=list)
    contact_sections: list[tuple[str, str]] = field(default_factory=list)
    overview_sections: list[tuple[str, str]] = field(default_factory=list)
    owed_soon: list = field(default_factory=list)
    list_filters: list[ListFilter] = field(default_factory=list)
    list_actions: list[tuple[str, str]] = field(default_factory=list)
    customer_rank: list = field(default_factory=list)
    periodic: dict[str, tuple[str, str]] = field(default_factory=dict)  # Feature.periodic, all


LIST_PARAMS = {"s", "q", "kind", "status", "archived", "sort", "page", "csrf_token"}


def registry() -> Registry:
    return current_app.extensions["crm.features"]


def rendered_sections(declared, replace: dict | None = None, **record) -> list:
    """The sections features declared for a page, rendered: each (template, "module:fn(record)"
    -> context or None). `replace` {template: context} gives a section the context it is
    re-rendered with (a form with its errors) instead of asking its feature."""
    from flask import render_template
    from markupsafe import Markup

    shown = []
    for template, context in declared:
        given = (replace or {}).get(template)
        given = given if given is not None else load(context)(*record.values())
        if given is not None:  # None: nothing to show (e.g. not the user's permission)
            shown.append(Markup(render_template(template, **record, **given)))
    return shown


def register_feature(app, feature: Feature):
    """Put one feature's declaration in place on the app."""
    from crm.jobs.services import register_job
    from crm.security.permissions import declare_permissions

    found = app.extensions.setdefault("crm.features", Registry())
    found.features.append(feature)
    declare_permissions(feature.permissions)
    for module in feature.models:
        import_module(module)
    for module in feature.views:
        import_module(module)
    for blueprint in feature.blueprints:
        app.register_blueprint(blueprint)
    found.nav = sorted([*found.nav, *feature.nav], key=lambda item: item.order)
    for tab in feature.tabs:
        found.tabs[tab.key] = tab
    found.tabs = dict(sorted(found.tabs.items(), key=lambda item: item[1].order))
    for name, target in feature.jobs.items():
        register_job(name, target)
    for path in feature.cli:
        app.cli.add_command(load(path))
    if feature.demo:
        found.demo_steps.append((feature.name, load(feature.demo)))
    for table, rule in feature.merge.items():
        found.merge_rules[table] = rule if rule == KEEP_SURVIVOR else load(rule)
    if feature.merge_veto:
        found.merge_vetoes.append(load(feature.merge_veto))
    if feature.customer_finder:
        found.customer_finders.append(feature.customer_finder)
    found.finders = sorted([*found.finders, *feature.search], key=lambda f: f.order)
    found.contact_sections.extend(feature.contact_sections)
    found.overview_sections.extend(feature.overview_sections)
    if feature.owed_soon:
        found.owed_soon.append(load(feature.owed_soon))
    for declared in feature.list_filters:
        taken = LIST_PARAMS | {f.param for f in found.list_filters}
        if declared.param in taken:
            raise ValueError(f"customer list filter {declared.param!r} is declared twice")
    found.list_filters = sorted([*found.list_filters, *feature.list_filters],
                                key=lambda f: f.order)
    found.list_actions.extend(feature.list_actions)
    if feature.customer_rank:
        found.customer_rank.append(load(feature.customer_rank))
    for name, (what, when) in feature.periodic.items():
        from crm.jobs.cron import cron_expression
        from crm.jobs.services import JOB_NAME

        if name in found.periodic:
            raise ValueError(f"periodic work {name!r} is declared twice")
        if not JOB_NAME.fullmatch(name):  # it is the scheduled RQ job's description
            raise ValueError(f"periodic work {name!r}: lower-case letters, digits, '_', '.'")
        cron_expression(when, app.config)  # a bad expression stops the app starting
        found.periodic[name] = (what, when)
    if feature.setup:
        load(feature.setup)(app)
