from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crm.catalogue import bp
from crm.catalogue.forms import GrowingForm, NameForm, ProductForm
from crm.catalogue.models import Packaging, Product
from crm.catalogue.services import (
    CatalogueError,
    add_packaging,
    add_product,
    add_route,
    routes,
    set_retired,
    update_growing,
    update_sizes,
)
from crm.common import ConflictError
from crm.extensions import db
from crm.security.permissions import requires
from crm.toasts import redirect_with, toast
from crm.web import render, save_form, wants_fragment

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


# -- growing data (managers and growers): click to edit, one component a product ----------------

def _product(product_id):
    return db.session.get(Product, product_id) or abort(404)


@bp.get("/growing")
@requires("catalogue.growing")
def growing():
    """Every product's growing data: days to harvest, yield per tray, loss allowance."""
    products = db.session.scalars(select(Product).order_by(Product.retired_at.is_not(None),
                                                           Product.name)).all()
    return render_template("catalogue/growing.html", products=products)


@bp.get("/growing/<int:product_id>")
@requires("catalogue.growing")
def growing_item(product_id):
    """One product's growing data, read-only (what Cancel goes back to)."""
    product = _product(product_id)
    if not wants_fragment():
        return redirect(url_for(".growing") + f"#growing-{product.id}")
    return render_template("catalogue/_growing_item.html", product=product)


def _form_response(product, form, status=200):
    return render("catalogue/growing_edit.html", "catalogue/_growing_form.html", status,
                  product=product, form=form)


@bp.get("/growing/<int:product_id>/edit")
@requires("catalogue.growing")
def growing_edit(product_id):
    """The growing-data form of one product."""
    product = _product(product_id)
    form = GrowingForm(formdata=None, obj=product)
    form.version.data = product.growing_version
    return _form_response(product, form)


@bp.post("/growing/<int:product_id>")
@requires("catalogue.growing")
def growing_save(product_id):
    """Save a product's growing data: the read-only item again, or the form with what is wrong
    (422) or with the newer values when someone saved meanwhile (409)."""
    product = _product(product_id)
    form = GrowingForm()

    def success(_):
        message = f"Growing data of {product.name} saved."
        if wants_fragment():
            toast(message)
            return render_template("catalogue/_growing_item.html", product=product)
        return redirect_with(url_for(".growing") + f"#growing-{product.id}", message)

    try:
        return save_form(form, lambda: update_growing(
            product, days_to_harvest=form.days_to_harvest.data,
            tray_yield_g=form.tray_yield_g.data, loss_pct=form.loss_pct.data,
            version=form.version.data, actor=current_user.actor),
            success=success, failure=lambda: _form_response(product, form, 422),
            errors=(CatalogueError,))
    except ConflictError:
        db.session.rollback()
        product = _product(product_id)
        fresh = GrowingForm(formdata=None, obj=product)
        fresh.version.data = product.growing_version
        fresh.form_errors.append("Someone else saved this product's growing data meanwhile: "
                                 "their values are shown now. Check them and save again.")
        return _form_response(product, fresh, 409)
