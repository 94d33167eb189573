"""Saved segments: the list with live counts, and the rule builder (htmx, and every button a
plain form post without JavaScript)."""
import re

from flask import abort, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, StringField

from crm.common import ConflictError
from crm.customers.models import Customer
from crm.extensions import db
from crm.forms import FormKeyField, MaxLength, Trimmed, version_field
from crm.security.permissions import requires
from crm.segments import bp, rules
from crm.segments.services import (
    NAME_MAX,
    SegmentError,
    create_segment,
    delete_segment,
    get_segment,
    may_edit,
    sees_amounts,
    segment_counts,
    segments_for,
    tree_of,
    update_segment,
)
from crm.toasts import redirect_with
from crm.web import claim, created, render, replayed

PREVIEWED = 10
MAX_NODES = 120  # nodes read from one posted form (rules.MAX_RULES is checked after)
PATH = re.compile(r"1(?:\.[1-9][0-9]{0,2}){0,6}")


class SegmentForm(FlaskForm):
    class Meta(Trimmed):
        pass

    name = StringField("Name", validators=[MaxLength(NAME_MAX)])
    shared = BooleanField("Shared with the team")
    version = version_field()


class NewSegmentForm(SegmentForm):
    form_key = FormKeyField()


# -- the posted form as a tree, and back ---------------------------------------------------

def tree_from_form(form) -> dict:
    """The rule tree the builder's fields describe. Each node is named by its position
    ("1" the top group, "1.2" its second item, "1.2.1" ...): `<path>.kind` is rule or group,
    a group has `.match`, a rule `.field`, `.op`, `.value` (several for choices), `.days`,
    `.channel`. A field changed since its operator was picked gets that field's first
    operator (and no value). Whatever was typed is kept as typed, for validate() to judge."""
    paths = []
    for key in form.keys():
        if key.endswith(".kind") and PATH.fullmatch(key[:-5]):
            paths.append(tuple(int(p) for p in key[:-5].split(".")))
    paths = sorted(set(paths))[:MAX_NODES]
    root = {"match": form.get("1.match", "all"), "rules": []}
    nodes = {(1,): root}
    for path in paths:
        if path == (1,) or path[:-1] not in nodes or "rules" not in nodes[path[:-1]]:
            continue
        name = ".".join(map(str, path))
        if form.get(f"{name}.kind") == "group":
            node = {"match": form.get(f"{name}.match", "all"), "rules": []}
        else:
            node = _rule_from_form(form, name)
        nodes[path[:-1]]["rules"].append(node)
        nodes[path] = node
    return root


def _rule_from_form(form, name) -> dict:
    node = {"field": form.get(f"{name}.field", "")}
    found = rules.FIELDS.get(node["field"])
    if found is None:
        return node
    op = form.get(f"{name}.op", "")
    if op not in found.ops:
        node["op"] = next(iter(found.ops))
        return {**node, **({"days": form.get(f"{name}.days")} if found.param == "days" else {})}
    node["op"] = op
    kind = found.ops[op].value
    if kind == "choices":
        node["value"] = form.getlist(f"{name}.value")
    elif kind is not None:
        node["value"] = form.get(f"{name}.value", "")
    if found.param == "days":
        node["days"] = form.get(f"{name}.days", "")
    elif found.param == "channel":
        node["channel"] = form.get(f"{name}.channel", "")
    return node


def _locate(tree, key):
    """(parent group, index) of the node named `key`, or (None, None)."""
    parts = key.split(".")
    if not PATH.fullmatch(key) or len(parts) < 2:
        return None, None
    node = tree
    for part in parts[1:-1]:
        items = node.get("rules", [])
        i = int(part) - 1
        if i >= len(items) or "rules" not in items[i]:
            return None, None
        node = items[i]
    i = int(parts[-1]) - 1
    return (node, i) if i < len(node.get("rules", [])) else (None, None)


def _group_at(tree, key):
    if key == "1":
        return tree
    parent, i = _locate(tree, key)
    found = parent["rules"][i] if parent is not None else None
    return found if found is not None and "rules" in found else None


def apply_action(tree, action: str):
    """Add a rule or a group to a group, or remove a node; the new rule's key (to focus)."""
    verb, _, key = action.partition(":")
    if verb in ("add-rule", "add-group"):
        group = _group_at(tree, key)
        if group is None:
            return None
        group["rules"].append({"field": ""} if verb == "add-rule" else
                              {"match": "any", "rules": [{"field": ""}]})
        new = f"{key}.{len(group['rules'])}"
        return new if verb == "add-rule" else f"{new}.1"
    if verb == "remove":
        parent, i = _locate(tree, key)
        if parent is not None:
            del parent["rules"][i]
    return None


def _pruned(tree):
    """The tree without rules not begun (no field chosen) and groups left empty: what the
    live count counts while the builder is being filled in."""
    out = []
    for node in tree.get("rules", []):
        if "rules" in node:
            inner = _pruned(node)
            if inner["rules"]:
                out.append(inner)
        elif node.get("field"):
            out.append(node)
    return {"match": tree.get("match", "all"), "rules": out}


# -- what the templates need ------------------------------------------------------------------

class Choices:
    """Each field's choices, read once a request and only for the fields shown."""

    def __init__(self):
        self.loaded = {}

    def __call__(self, field_key):
        found = rules.FIELDS.get(field_key)
        if found is None or found.choices is None:
            return []
        if field_key not in self.loaded:
            self.loaded[field_key] = found.choices()
        return self.loaded[field_key]


def _builder_context(tree, problems=(), focus=None):
    fields = rules.fields_for(sees_amounts(current_user))
    groups = {}
    for f in fields:
        groups.setdefault(f.group, []).append(f)
    return {"tree": tree, "field_groups": groups, "all_fields": rules.FIELDS,
            "choices": Choices(), "problems": {p.key: p.text for p in problems},
            "problem_list": list(problems),
            "focus": focus, "channels": rules.CHANNELS, "matches": rules.MATCHES,
            "max_depth": rules.MAX_DEPTH}


def _result(tree):
    """The live count and the first matching customers, with why: what the builder shows
    beside the rules."""
    pruned = _pruned(tree)
    # the shape only: a tag or route deleted since is named at its rule, and matches nobody
    clean, problems = rules.validate(pruned, amounts=sees_amounts(current_user), existing=False)
    if problems:
        return {"problems": problems, "count": None, "preview": []}
    total = rules.count(clean, amounts=sees_amounts(current_user))
    ids = rules.first_ids(clean, PREVIEWED, amounts=sees_amounts(current_user))
    why = rules.explain(clean, ids, amounts=sees_amounts(current_user))
    found = {c.id: c for c in db.session.scalars(select(Customer).where(Customer.id.in_(ids)))}
    return {"problems": [], "count": total, "unfinished": pruned != tree,
            "preview": [(found[i], why.get(i, [])) for i in ids if i in found]}


def _page(form, tree, *, segment=None, problems=(), status=200, focus=None, conflict=None):
    context = {"form": form, "segment": segment, "conflict": conflict,
               "editable": segment is None or may_edit(segment, current_user),
               "action_url": url_for(".edit", segment_id=segment.id) if segment
               else url_for(".new"),
               "result": _result(tree), **_builder_context(tree, problems, focus)}
    return render_template("segments/builder.html", **context), status


# -- routes ---------------------------------------------------------------------------------

@bp.get("/segments")
@requires("segments.use")
def index():
    """The segments the user may use, each with how many customers it holds now."""
    found = segments_for(current_user)
    return render("segments/index.html", "segments/_list.html", segments=found,
                  counts=segment_counts(found, current_user),
                  editable={s.id for s in found if may_edit(s, current_user)})


@bp.route("/segments/new", methods=["GET", "POST"])
@requires("segments.use")
def new():
    """Build a segment: add rules and groups, watch the count, save it."""
    if request.method == "GET":
        return _page(NewSegmentForm(formdata=None),
                     {"match": "all", "rules": [{"field": ""}]}, focus="1.1")
    form = NewSegmentForm()
    tree = tree_from_form(request.form)
    action = request.form.get("action", "refresh")
    if action != "save":
        return _page(form, tree, focus=apply_action(tree, action))
    if (again := replayed(form)) is not None:
        return again
    return _save(form, tree, lambda: create_segment(
        form.name.data, tree, shared=form.shared.data, user=current_user,
        actor=current_user.actor), new=True)


def _save(form, tree, apply, *, segment=None, new=False):
    if not form.validate():
        return _page(form, tree, segment=segment, status=422)
    if new and (again := claim(form)) is not None:
        return again
    try:
        saved = apply()
    except SegmentError as exc:
        db.session.rollback()
        if not exc.problems:  # the rules' problems are listed and shown at each rule
            form.form_errors.append(str(exc))
        return _page(form, tree, segment=segment, problems=exc.problems, status=422)
    except ConflictError as exc:
        db.session.rollback()
        current = exc.current
        fresh = SegmentForm(formdata=None, obj=current)
        fresh.form_errors.append("Someone else saved this segment after you opened it. "
                                 "Their version is shown below; make your change again.")
        return _page(fresh, tree_of(current), segment=current, status=409, conflict=True)
    except PermissionError:
        db.session.rollback()
        abort(403)
    url = url_for(".edit", segment_id=saved.id)
    if new:
        created(form, url)
    db.session.commit()
    return redirect_with(url, f"Segment “{saved.name}” saved.")


@bp.route("/segments/<int:segment_id>", methods=["GET", "POST"])
@requires("segments.use")
def edit(segment_id):
    """A saved segment in the builder: its rules, count and first customers; its owner (or a
    manager, for a shared one) changes and saves it, anyone may save a copy."""
    segment = get_segment(segment_id, current_user) or abort(404)
    if request.method == "GET":
        tree = tree_of(segment)
        _, problems = rules.validate(tree, amounts=sees_amounts(current_user))
        return _page(SegmentForm(formdata=None, obj=segment), tree, segment=segment,
                     problems=problems)
    tree = tree_from_form(request.form)
    action = request.form.get("action", "refresh")
    if action == "save-new":
        form = SegmentForm()
        return _save(form, tree, lambda: create_segment(
            form.name.data, tree, shared=False, user=current_user, actor=current_user.actor),
            segment=segment)
    form = SegmentForm()
    if action != "save":
        return _page(form, tree, segment=segment, focus=apply_action(tree, action))
    if not may_edit(segment, current_user):
        abort(403)
    return _save(form, tree, lambda: update_segment(
        segment, form.name.data, tree, shared=form.shared.data, version=form.version.data,
        user=current_user, actor=current_user.actor), segment=segment)


@bp.post("/segments/<int:segment_id>/delete")
@requires("segments.use")
def delete(segment_id):
    """Delete a segment (its owner, or a manager for a shared one)."""
    segment = get_segment(segment_id, current_user) or abort(404)
    name = segment.name
    version = request.form.get("version", "")
    try:
        delete_segment(segment, version=int(version) if version.isdigit() else 0,
                       user=current_user, actor=current_user.actor)
    except PermissionError:
        db.session.rollback()
        abort(403)
    except ConflictError:
        db.session.rollback()
        return redirect_with(url_for(".edit", segment_id=segment_id),
                             "Someone changed this segment since you opened it; look again "
                             "before deleting.", "error")
    db.session.commit()
    return redirect_with(url_for(".index"), f"Segment “{name}” deleted.")


@bp.post("/segments/preview")
@requires("segments.use")
def preview():
    """The live count and first customers for the rules as they stand in the builder."""
    tree = tree_from_form(request.form)
    return render("segments/preview.html", "segments/_result.html", result=_result(tree),
                  oob=True)


@bp.post("/segments/builder")
@requires("segments.use")
def builder():
    """The rules again after adding a rule or a group or removing one (htmx; without
    JavaScript the same buttons post the whole page), with the count and preview."""
    tree = tree_from_form(request.form)
    focus = apply_action(tree, request.form.get("action", "refresh"))
    return render_template("segments/_builder_response.html", result=_result(tree),
                           **_builder_context(tree, focus=focus))


@bp.post("/segments/rule")
@requires("segments.use")
def rule():
    """One rule row again, for the field or operator just picked (its operator select and
    value input swap in)."""
    key = request.form.get("key", "")
    if not PATH.fullmatch(key) or key == "1" or not request.form.get(f"{key}.kind"):
        abort(404)
    node = _rule_from_form(request.form, key)
    focus = request.form.get("changed") == "op" and "op" or "field"
    return render_template("segments/_rule.html", node=node, key=key, focus_control=focus,
                           **_builder_context(None)), 200
