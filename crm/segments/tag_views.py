"""Tags in the staff UI: the customer's tags card (add and remove in place), the Tags page
(counts; rename, recolour, describe, merge, delete for managers) and bulk tagging from the
customer list (in the request up to a page, as a job beyond)."""
from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms import SelectChoice

from crm.common import ConflictError, parse_id
from crm.customers.services import (
    count_customers,
    customer_or_404,
    ensure_editable,
    list_args,
    list_filters,
    matching_ids,
)
from crm.extensions import db
from crm.jobs.progress import poll_status
from crm.jobs.services import QueueUnavailable, enqueue, get_run
from crm.security.encryption import unseal
from crm.security.permissions import can, requires
from crm.segments import bp
from crm.segments.models import TAG_COLOURS
from crm.segments.tag_forms import MergeForm, TagForm, TagNameForm
from crm.segments.tags import (
    JOB_NAME,
    TagError,
    add_tag,
    all_tags,
    bulk_message,
    customer_tags,
    delete_tag,
    find_or_create_tag,
    find_tag,
    get_tag,
    job_params,
    merge_tags,
    remove_tag,
    suggest_tags,
    tags_with_counts,
    update_tag,
)
from crm.toasts import redirect_with, toast
from crm.web import render, wants_fragment

BULK_SEARCH_LIMIT = 1000  # "all that match" a typed search: tagged in the request, up to this


# -- the customer's tags card (an Overview section) -----------------------------------------

def tag_card(customer, form=None, *, announce=None, focus=False):
    """The Overview's tags card: every role that sees the customer sees its tags; tags.edit
    adds and removes them (not on an archived customer)."""
    if not can(current_user, "customers.view"):
        return None
    return {"tags": customer_tags(customer.id), "form": form or TagNameForm(formdata=None),
            "editable": can(current_user, "tags.edit") and not customer.is_archived,
            "announce": announce, "focus": focus}


def _card(customer, form=None, status=200, **kwargs):
    """The card alone for htmx; otherwise a page holding it (the way without JavaScript)."""
    return render("segments/tags_customer.html", "segments/_tag_card.html", status,
                  customer=customer, **tag_card(customer, form, **kwargs))


@bp.get("/customers/<int:customer_id>/tags")
@requires("customers.view")
def customer_tags_card(customer_id):
    """A customer's tags (the Overview's card; a page of its own without JavaScript)."""
    return _card(customer_or_404(customer_id, overview=False))


@bp.post("/customers/<int:customer_id>/tags")
@requires("tags.edit")
def add_customer_tag(customer_id):
    """Put a tag on the customer: an existing one whatever its case and spacing, or a new
    one. The card comes back with the tag, the focus still in the field."""
    customer = customer_or_404(customer_id, overview=False)
    ensure_editable(customer)
    form = TagNameForm()
    if form.validate_on_submit():
        def put_on():
            tag = find_or_create_tag(form.name.data, actor=current_user.actor)
            return tag, add_tag([customer.id], tag, actor=current_user.actor)
        try:
            try:
                tag, added = put_on()
                db.session.flush()
            except IntegrityError:  # the same tag made (or put on) at the same moment
                db.session.rollback()
                tag, added = put_on()
        except TagError as exc:
            db.session.rollback()
            form.name.errors = [*form.name.errors, str(exc)]
        else:
            db.session.commit()
            message = (f"Tag “{tag.name}” added." if added
                       else f"{customer.number} has the tag “{tag.name}” already.")
            if not wants_fragment():
                return redirect_with(url_for("customers.detail", customer_id=customer.id),
                                     message)
            return _card(customer, announce=message, focus=True)
    if not form.errors:
        form.name.errors = ["The form expired. Send it again."]
    return _card(customer, form, 422, announce=form.name.errors[0] if form.name.errors
                 else None, focus=True)


@bp.post("/customers/<int:customer_id>/tags/<int:tag_id>/remove")
@requires("tags.edit")
def remove_customer_tag(customer_id, tag_id):
    """Take a tag off the customer (the card comes back without it)."""
    customer = customer_or_404(customer_id, overview=False)
    ensure_editable(customer)
    tag = get_tag(tag_id)
    if tag is None:
        abort(404)
    removed = remove_tag([customer.id], tag, actor=current_user.actor)
    db.session.commit()
    message = (f"Tag “{tag.name}” removed." if removed
               else f"{customer.number} did not have the tag “{tag.name}”.")
    if not wants_fragment():
        return redirect_with(url_for("customers.detail", customer_id=customer.id), message)
    return _card(customer, announce=message, focus=True)


@bp.get("/tags/suggest")
@requires("tags.edit")
def suggest():
    """Tags to suggest as one types (a <datalist> swapped in), but those the customer has."""
    customer = parse_id(request.args.get("customer", ""))
    found = suggest_tags(request.args.get("tag-name", "")[:200], exclude_customer=customer)
    return render_template("segments/_tag_suggestions.html", suggestions=found,
                           list_id=request.args.get("list") if request.args.get("list")
                           in ("tag-suggestions", "bulk-tag-options") else "tag-suggestions")


# -- the Tags page ------------------------------------------------------------------------

def _tag_or_404(tag_id):
    tag = get_tag(tag_id)
    if tag is None:
        abort(404)
    return tag


def _counts():
    return dict((tag.id, n) for tag, n in tags_with_counts())


@bp.get("/tags")
@requires("tags.edit")
def tags():
    """Every tag with how many customers carry it; managers edit, merge and delete them."""
    rows = tags_with_counts()
    return render_template("segments/tags.html", rows=rows, colours=TAG_COLOURS,
                           manage=can(current_user, "tags.manage"))


@bp.get("/tags/<int:tag_id>")
@requires("tags.edit")
def tag_row(tag_id):
    """One tag's row of the Tags page (what Cancel brings back)."""
    tag = _tag_or_404(tag_id)
    if not wants_fragment():
        return redirect(url_for(".tags", _anchor=f"tag-{tag.id}"))
    return _row(tag)


def _row(tag, status=200, **context):
    return render_template("segments/_tag_row.html", tag=tag, count=_counts().get(tag.id, 0),
                           colours=TAG_COLOURS, manage=can(current_user, "tags.manage"),
                           **context), status


def _edit(tag, form, status=200, conflict=None, merge_error=None):
    merge = MergeForm(formdata=None, tag_id=tag.id)
    merge.into.choices = [SelectChoice(t.id, t.name) for t in all_tags() if t.id != tag.id]
    return render("segments/tags_edit.html", "segments/_tag_edit.html", status, tag=tag,
                  form=form, merge=merge, conflict=conflict, colours=TAG_COLOURS,
                  merge_error=merge_error,
                  count=_counts().get(tag.id, 0))


@bp.route("/tags/<int:tag_id>/edit", methods=["GET", "POST"])
@requires("tags.manage")
def edit_tag(tag_id):
    """Rename, recolour or describe a tag; a save over someone else's newer one is refused
    (409) and nothing changes."""
    tag = _tag_or_404(tag_id)
    form = TagForm(obj=tag if request.method == "GET" else None, tag_id=tag.id)
    if request.method == "GET":
        form.colour.data = tag.colour or ""
        return _edit(tag, form)
    if not form.validate_on_submit():
        return _edit(tag, form, 422)
    try:
        changed = update_tag(tag, name=form.name.data, colour=form.colour.data,
                             description=form.description.data,
                             expected_version=form.version.data, actor=current_user.actor)
    except ConflictError as exc:
        current = exc.current
        if current is None:
            abort(404)
        conflict = {"name": current.name, "colour": TAG_COLOURS.get(current.colour, "Plain"),
                    "description": current.description}
        form.version.data = current.version  # saving again now is a deliberate overwrite
        return _edit(current, form, 409, conflict=conflict)
    except TagError as exc:
        db.session.rollback()
        (form.colour if "colour" in str(exc) else form.description
         if "description" in str(exc) else form.name).errors.append(str(exc))
        return _edit(tag, form, 422)
    db.session.commit()
    message = f"Tag “{tag.name}” saved." if changed else "Nothing changed."
    if not wants_fragment():
        return redirect_with(url_for(".tags", _anchor=f"tag-{tag.id}"), message)
    toast(message)
    return _row(tag, focus=True)


@bp.post("/tags/<int:tag_id>/merge")
@requires("tags.manage")
def merge_tag(tag_id):
    """Merge a tag into another: its customers carry the other one, and it is deleted."""
    tag = _tag_or_404(tag_id)
    form = MergeForm(tag_id=tag.id)
    target = get_tag(form.into.data) if form.validate_on_submit() and form.into.data else None
    if target is None or target.id == tag.id:
        edit = TagForm(obj=tag, tag_id=tag.id, formdata=None)
        edit.colour.data = tag.colour or ""
        return _edit(tag, edit, 422, merge_error="Choose the tag to merge into.")
    name, into = tag.name, target.name
    moved = merge_tags(tag, target, actor=current_user.actor)
    db.session.commit()
    return redirect_with(url_for(".tags", _anchor=f"tag-{target.id}"),
                         f"“{name}” merged into “{into}” ({moved:,} customer"
                         f"{'s' if moved != 1 else ''} moved over).")


@bp.post("/tags/<int:tag_id>/delete")
@requires("tags.manage")
def delete_tag_view(tag_id):
    """Delete a tag, taking it off every customer carrying it."""
    tag = _tag_or_404(tag_id)
    name = tag.name
    removed = delete_tag(tag, actor=current_user.actor)
    db.session.commit()
    return redirect_with(url_for(".tags"),
                         f"Tag “{name}” deleted (taken off {removed:,} customers).")


# -- bulk tagging from the customer list (crm.features list_actions) -----------------------

def bulk_bar(listing):
    """The list's "add or remove a tag" for tags.edit: under the rows, their checkboxes."""
    if not can(current_user, "tags.edit"):
        return None
    return {"tags": all_tags()}


def _bulk_status(status=200, *, message=None, error=None, run=None, back=None):
    template = ("segments/_tag_bulk_status.html" if wants_fragment()
                else "segments/tags_bulk_run.html")
    return render_template(template, message=message, error=error, run=run,
                           back=back), status


def _ids(values, limit):
    ids = [parse_id(v) for v in values]
    if None in ids:
        abort(400)
    return list(dict.fromkeys(ids))[:limit + 1]


@bp.post("/tags/bulk/<any(add, remove):action>")
@requires("tags.edit")
def bulk(action):
    """Add a tag to (or take it off) the customers ticked, all on the page, or all that
    match the list: in the request up to a page (or a typed search's first
    BULK_SEARCH_LIMIT), as a job with progress beyond."""
    per_page = current_app.config["CUSTOMERS_PER_PAGE"]
    add, actor = action == "add", current_user.actor
    filters = list_filters(request.form)
    back = url_for("customers.index", s=request.form.get("s") or None, **list_args(filters))

    def refuse(error, status=422):
        db.session.rollback()
        if not wants_fragment():
            return redirect_with(back, error, "error")
        return _bulk_status(status, error=error)

    name = request.form.get("tag_name", "")
    try:
        tag = find_or_create_tag(name, actor=actor) if add else find_tag(name)
    except TagError as exc:
        return refuse(str(exc))
    if tag is None:
        return refuse(f"No tag is called “{name.strip()[:60]}”: choose one of the list."
                      if name.strip() else "Choose the tag to take off.")
    scope = request.form.get("scope", "ticked")
    try:
        if scope == "all":
            q = unseal(request.form.get("s", ""), actor=actor) or ""
            if q:
                ids = matching_ids(q, **filters, limit=BULK_SEARCH_LIMIT, user=current_user)
                if len(ids) > BULK_SEARCH_LIMIT:
                    return refuse(f"More than {BULK_SEARCH_LIMIT:,} customers match the search. "
                                  "Narrow it, or clear it and use the filters (kind, status, "
                                  "tag) to tag any number.")
            elif count_customers(**filters, user=current_user) > per_page:
                return _start_job(filters, tag, add)
            else:
                ids = matching_ids(**filters, limit=per_page, user=current_user)
        else:
            ids = _ids(request.form.getlist("page_id" if scope == "page" else "customer_id"),
                       per_page)
            if not ids:
                return refuse("Tick the customers first, or choose “All on this page”.")
            if len(ids) > per_page:
                return refuse(f"At most {per_page} customers at once this way; choose “All "
                              "that match” for more.")
    except ValueError as exc:  # a list filter that cannot be used (a deleted tag)
        return refuse(str(exc))
    changed = (add_tag if add else remove_tag)(ids, tag, actor=actor)
    db.session.commit()
    message = bulk_message(tag.name, add, changed, len(ids))
    if not wants_fragment():
        return redirect_with(back, message)
    toast(message)
    return _bulk_status(message=message, back=back)


def _start_job(filters, tag, add):
    try:
        run = enqueue(JOB_NAME, actor=current_user.actor,
                      **job_params(filters, tag=tag, add=add))
        db.session.commit()  # the new tag (if one was made) and the run; the job starts now
    except QueueUnavailable as exc:
        db.session.rollback()
        return _bulk_status(503, error=str(exc))
    if not wants_fragment():
        return redirect(url_for(".bulk_run", run_id=run.id), 303)
    return _bulk_status(run=run)


@bp.get("/tags/bulk/runs/<int:run_id>")
@requires("tags.edit")
def bulk_run(run_id):
    """A bulk tagging job's progress (polled by its component until done: 286) and outcome."""
    run = get_run(run_id, owner=None if can(current_user, "admin.jobs")
                  else current_user.actor)
    if run is None or run.name != JOB_NAME:
        abort(404)
    return _bulk_status(poll_status(run) if wants_fragment() else 200, run=run)
