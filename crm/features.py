"""Features declare themselves; the app factory walks one list of them.

A feature is a folder under crm/ whose __init__.py holds one `feature = Feature(...)`: its
blueprints and the modules that add their routes, its models, its permissions with the roles
holding them, navigation items (with an optional badge), customer-page tabs, background jobs,
CLI commands, demo-data step and merge rules. Encrypted and blind-indexed columns are declared
on the models themselves (crm.security.rotation finds them there).

Adding a feature means writing its folder and naming it in crm.FEATURES; nothing else central
changes. Callables are named as "module:attribute" strings, loaded when the feature registers,
so a declaration imports nothing but this module and Flask.
"""
from dataclasses import dataclass, field
from importlib import import_module

from flask import current_app

from crm.common import load

KEEP_SURVIVOR = "keep_survivor"  # merge rule: where one row per record is allowed, keep the survivor's


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
    # "module:function(q)" -> a select of customer ids matching what staff typed in the
    # customer search, or None when it does not recognise it (names are searched then)
    customer_finder: str | None = None
    # sections of a contact's page: (template, "module:function(contact)" -> context or None)
    contact_sections: tuple[tuple[str, str], ...] = ()
    # cards at the top of a customer's Overview ("at a glance"), the same way:
    # (template, "module:function(customer)" -> context, or None for nothing to show)
    overview_sections: tuple[tuple[str, str], ...] = ()
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
    customer_finders: list[str] = field(default_factory=list)
    contact_sections: list[tuple[str, str]] = field(default_factory=list)
    overview_sections: list[tuple[str, str]] = field(default_factory=list)


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
    found.contact_sections.extend(feature.contact_sections)
    found.overview_sections.extend(feature.overview_sections)
    if feature.setup:
        load(feature.setup)(app)
