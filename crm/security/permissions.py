"""Roles, the role-permission table and the one guard every request passes through.

Each view declares what it needs with @requires("permission") or @public. The guard denies any
endpoint that declares nothing, so a forgotten decorator fails closed (and the route-inventory
test names it).
"""
from urllib.parse import urlsplit

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from crm.extensions import htmx

# grower: the sowing plan, growing data on the catalogue and delivery sheets; no customers, no
# money, no communications (issue 17)
ROLES = ("admin", "manager", "sales", "finance", "delivery", "viewer", "grower")
PUBLIC = "public"

# permission -> roles holding it; each feature declares its own (crm.features)
PERMISSIONS: dict[str, frozenset[str]] = {}


def declare_permissions(permissions: dict[str, set[str]]):
    """Add a feature's permissions. Declaring one again with other roles is a mistake."""
    for name, roles in permissions.items():
        roles = frozenset(roles)
        unknown = roles - set(ROLES)
        if unknown:
            raise ValueError(f"permission {name!r} names unknown roles {sorted(unknown)}")
        if PERMISSIONS.get(name, roles) != roles:
            raise ValueError(f"permission {name!r} is declared twice with different roles")
        PERMISSIONS[name] = roles


def check_views(app):
    """At start-up: every view declares a permission that some feature declared."""
    unknown = sorted(
        f"{endpoint} needs {view.permission!r}"
        for endpoint, view in app.view_functions.items()
        if getattr(view, "permission", PUBLIC) not in (PUBLIC, *PERMISSIONS)
    )
    if unknown:
        raise RuntimeError("views need undeclared permissions: " + "; ".join(unknown))


def can(user, permission: str) -> bool:
    """Whether a signed-in user's role holds the permission."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.role in PERMISSIONS.get(permission, ())
    )


def requires(permission: str):
    """Declare the permission a view needs (checked by guard(); check_views() refuses to
    start with a permission no feature declared)."""

    def decorate(view):
        view.permission = permission
        return view

    return decorate


def public(view):
    """Declare a view open to anonymous visitors."""
    view.permission = PUBLIC
    return view


def blueprint_permission(blueprint, permission: str):
    """Give every view of a third-party blueprint (e.g. rq-dashboard) one permission."""
    blueprint_permissions[blueprint.name] = permission


blueprint_permissions: dict[str, str] = {}


def required_permission(endpoint: str | None):
    if endpoint is None:
        return PUBLIC  # no route matched: let Flask answer 404/405
    if endpoint == "static":
        return PUBLIC
    blueprint = endpoint.rsplit(".", 1)[0] if "." in endpoint else None
    if blueprint in blueprint_permissions:
        return blueprint_permissions[blueprint]
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "permission", None)


def _to_sign_in():
    if htmx:  # come back to the page the user was on, not to the fragment it asked for
        page = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = page.path + (f"?{page.query}" if page.query else "")
        return "", 401, {"HX-Redirect": url_for("auth.sign_in", next=back or None)}
    return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))


def guard():
    """before_request: sign-in and role check for every route."""
    permission = required_permission(request.endpoint)
    if permission == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return _to_sign_in()
    if permission is None or not can(current_user, permission):
        abort(403)
    return None
