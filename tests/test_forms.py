"""crm.forms.html_params: what WTForms' own html_params writes, for every kind of value, and
the widgets use it."""
import itertools

import pytest
import wtforms.widgets
import wtforms.widgets.core
from markupsafe import Markup

from crm.forms import WTFORMS_HTML_PARAMS, html_params

VALUES = ["", "plain", 'a "quoted" <b>&amp;</b>', "it's", Markup('<i class="x">'),
          Markup("&quot;ok&quot;"), 0, 7, 2.5, None, True, False, "\u00e9t\u00e9 \u2603",
          "javascript:alert(1)", "x\ny"]
KEYS = ["id", "name", "class_", "for_", "data_hx_get", "aria_describedby", "hx-get", "type_",
        "data_", "aria_", "value", "selected"]


@pytest.mark.parametrize("key", KEYS)
def test_each_key_with_each_value(key):
    for value in VALUES:
        assert html_params(**{key: value}) == WTFORMS_HTML_PARAMS(**{key: value}), (key, value)


def test_many_attributes_in_their_order():
    for values in itertools.permutations(VALUES[:6], 4):
        kwargs = dict(zip(KEYS, values))
        assert html_params(**kwargs) == WTFORMS_HTML_PARAMS(**kwargs), kwargs
    assert html_params() == WTFORMS_HTML_PARAMS() == Markup("")


def test_the_widgets_use_it():
    core = wtforms.widgets.core
    for found in (core.html_params, wtforms.widgets.html_params, core.Input.html_params,
                  core.Button.html_params):
        assert found is html_params


def test_a_form_renders_as_with_wtforms_own(app):
    """The whole quick log: labels, inputs, selects with their options, the text area."""
    from crm.communications.forms import QuickLogForm

    core = wtforms.widgets.core
    with app.test_request_context("/"):
        form = QuickLogForm(formdata=None, meta={"csrf": False})
        form.set_choices({1: 'Ann "the <boss>"', 2: "Bob & co"}, [])
        form.subject.data = 'Re: "prices" <soon>'
        ours = [str(f.label()) + str(f(class_="x", data_count=3, required=True)) for f in form]
        patched = [(core, "html_params"), (wtforms.widgets, "html_params")]
        try:
            for owner, name in patched:
                setattr(owner, name, WTFORMS_HTML_PARAMS)
            core.Input.html_params = core.Button.html_params = staticmethod(WTFORMS_HTML_PARAMS)
            theirs = [str(f.label()) + str(f(class_="x", data_count=3, required=True))
                      for f in form]
        finally:
            for owner, name in patched:
                setattr(owner, name, html_params)
            core.Input.html_params = core.Button.html_params = staticmethod(html_params)
    assert ours == theirs
    assert "&#34;prices&#34; &lt;soon&gt;" in "".join(ours)
