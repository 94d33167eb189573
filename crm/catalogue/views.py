from flask import abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crm.catalogue import bp
from crm.catalogue.forms import NameForm, ProductForm
from crm.catalogue.models import Packaging, Product
from crm.catalogue.services import (
    CatalogueError,
    add_packaging,
    add_product,
    add_route,
    routes,
    set_retired,
    update_sizes,
)
from crm.extensions import db
from crm.security.permissions import requires
from crm.toasts import redirect_with
from crm.web import save_form

KINDS = {"products": Product, "packaging": Packaging}


def _render(status=200, **forms):
    return render_template(
        "catalogue/index.html",
        products=db.session.scalars(select(Product).order_by(Product.name)).all(),
        packaging=db.session.scalars(select(Packaging).order_by(Packaging.name)).all(),
        routes=routes(),
        product_form=forms.get("product") or ProductForm(formdata=None),
        packaging_form=forms.get("packaging") or NameForm(formdata=None, prefix="packaging"),
        route_form=forms.get("route") or NameForm(formdata=None, prefix="route"),
    ), status


@bp.get("/")
@requires("catalogue.manage")
def index():
    """Products, packaging and routes: add, change sizes, retire."""
    return _render()


def _add(key, form, action, message):
    return save_form(form, lambda: action(form),
                     success=lambda _: redirect_with(url_for(".index"), message),
                     failure=lambda: _render(status=422, **{key: form}), errors=(CatalogueError,),
                     result_url=lambda _: url_for(".index"))


@bp.post("/products")
@requires("catalogue.manage")
def new_product():
    form = ProductForm()
    return _add("product", form, lambda f: add_product(f.name.data, f.sizes.data,
                                                      actor=current_user.actor), "Product added.")


@bp.post("/packaging")
@requires("catalogue.manage")
def new_packaging():
    form = NameForm(prefix="packaging")
    return _add("packaging", form, lambda f: add_packaging(f.name.data, actor=current_user.actor),
                "Packaging option added.")


@bp.post("/routes")
@requires("catalogue.manage")
def new_route():
    form = NameForm(prefix="route")
    return _add("route", form, lambda f: add_route(f.name.data, actor=current_user.actor),
                "Route added.")


@bp.post("/products/<int:product_id>/sizes")
@requires("catalogue.manage")
def sizes(product_id):
    product = db.session.get(Product, product_id) or abort(404)
    try:
        update_sizes(product, request.form.get("sizes", ""), actor=current_user.actor)
    except CatalogueError as exc:
        db.session.rollback()
        return redirect_with(url_for(".index"), f"{product.name}: {exc}", "error")
    db.session.commit()
    return redirect_with(url_for(".index"), f"{product.name} sizes saved.")


@bp.post("/<any(products, packaging):kind>/<int:item_id>/<any(retire, restore):action>")
@requires("catalogue.manage")
def retire(kind, item_id, action):
    item = db.session.get(KINDS[kind], item_id) or abort(404)
    set_retired(item, action == "retire", actor=current_user.actor)
    db.session.commit()
    return redirect_with(url_for(".index"), f"{item.name} {'retired' if action == 'retire' else 'is back'}.")
