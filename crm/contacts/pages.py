"""A contact's page: the person, then the sections other features declare for it
(`contact_sections` in crm.features), e.g. communications' timeline and quick log."""
from flask import render_template
from markupsafe import Markup

from crm.common import load
from crm.features import registry


def contact_page(contact, status: int = 200, replace: dict | None = None):
    """The whole page. `replace` {section template: context} gives a section the context it
    is re-rendered with (a form with its errors) instead of asking its feature."""
    sections = []
    for template, context in registry().contact_sections:
        given = (replace or {}).get(template)
        given = given if given is not None else load(context)(contact)
        if given is not None:  # None: nothing to show (e.g. not the user's permission)
            sections.append(Markup(render_template(template, contact=contact, **given)))
    return render_template("contacts/detail.html", contact=contact, sections=sections), status
