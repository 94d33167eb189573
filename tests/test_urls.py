"""crm.App.url_for: URLs without values are built once per script root; any other URL is
built every time, as Flask does."""
from flask import url_for


def test_constant_urls_are_built_once_per_script_root(app):
    app._constant_urls.clear()
    with app.test_request_context("/"):
        assert url_for("customers.index") == "/customers/"
        assert url_for("static", filename="css/app.css") == "/static/css/app.css"
    with app.test_request_context("/", base_url="http://localhost/crm/"):
        assert url_for("customers.index") == "/crm/customers/"
        assert url_for("static", filename="css/app.css") == "/crm/static/css/app.css"
    assert set(app._constant_urls.values()) == {"/customers/", "/static/css/app.css",
                                                "/crm/customers/", "/crm/static/css/app.css"}


def test_urls_with_values_are_not_kept(app):
    app._constant_urls.clear()
    with app.test_request_context("/"):
        assert url_for("customers.detail", customer_id=7) == "/customers/7"
        assert url_for("customers.index", s="sealed") == "/customers/?s=sealed"
        assert url_for("customers.index", _anchor="results") == "/customers/#results"
        assert url_for("customers.index", _external=True) == "http://localhost/customers/"
    assert app._constant_urls == {}


def test_outside_a_request_flask_builds_them(app):
    app._constant_urls.clear()
    app.config["SERVER_NAME"] = "farm.example"
    try:
        with app.app_context():
            assert url_for("customers.index") == "http://farm.example/customers/"
    finally:
        app.config["SERVER_NAME"] = None
    assert app._constant_urls == {}


def test_id_urls_are_the_urls_url_for_builds(app):
    from crm.web import id_url

    with app.test_request_context("/", base_url="http://localhost/crm/"):
        for entry_id in (1, 7, 2147483646, 2147483647):
            for show in (None, 1):
                assert id_url("communications.edit", "entry_id", entry_id, show_customer=show) \
                    == url_for("communications.edit", entry_id=entry_id, show_customer=show)
        assert id_url("communications.entries", "customer", 12, channel="call") \
            == url_for("communications.entries", customer=12, channel="call")  # in the query
        assert id_url("contacts.detail", "contact_id", "3") == "/crm/contacts/3"  # not an int
        # the placeholder's digits elsewhere: url_for every time, still right
        assert id_url("communications.entries", "customer", 5, staff=2147483647) \
            == url_for("communications.entries", customer=5, staff=2147483647)
