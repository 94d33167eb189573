"""The staff layout on a phone and for screen readers (issue 14, items 9, 12 and 14): the menu
button, the current section in the navigation, one live region with short summaries instead
of live tables and panels, and the quick log folded above the timeline."""
import re

import pytest

from tests import factories
from tests.communications.test_timeline import log_on_tab


@pytest.fixture
def customer_id(app):
    with app.app_context():
        return factories.customer("Little Fern Kitchen").id


def element(html, element_id):
    """The opening tag of the element with this id."""
    found = re.search(rf'<[a-z]+\b[^>]*\bid="{element_id}"[^>]*>', html)
    assert found, f"no #{element_id}"
    return found.group(0)


def main_nav(html):
    return re.search(r'<nav aria-label="Main">.*?</nav>', html, re.S).group(0)


def current_sections(html):
    return re.findall(r'<a href="([^"]+)" aria-current="page">', main_nav(html))


# -- the menu button ---------------------------------------------------------------------------

def test_the_header_has_a_menu_button_and_the_menu_is_not_hidden_without_javascript(client, auth):
    auth.sign_in("admin")
    html = client.get("/customers/").text
    button = re.search(r'<button[^>]*class="menu-button"[^>]*>', html).group(0)
    assert 'type="button"' in button and 'aria-controls="site-menu"' in button
    assert 'aria-expanded="true"' in button  # what it is until app.js folds the menu
    assert " hidden" in button  # shown by app.js, which alone can fold the menu
    menu = element(html, "site-menu")
    assert "hidden" not in menu  # without JavaScript the navigation is in view
    inside = html[html.index(menu):html.index("</header>")]
    for part in ('<nav aria-label="Main">', 'id="site-search-q"', "Sign out"):
        assert part in inside  # the menu holds the navigation, the search and the account


# -- the current section -----------------------------------------------------------------------

@pytest.mark.parametrize("path, section", [
    ("/customers/", "/customers/"),
    ("/customers/{id}", "/customers/"),
    ("/customers/{id}/communications", "/customers/"),
    ("/customers/{id}/edit", "/customers/"),
    ("/contacts/", "/contacts/"),
])
def test_the_navigation_marks_the_section_of_a_sub_page(client, auth, customer_id, path, section):
    auth.sign_in("admin")
    response = client.get(path.format(id=customer_id))
    assert response.status_code == 200
    assert current_sections(response.text) == [section]


def test_a_page_outside_every_section_marks_none(client, auth):
    auth.sign_in("admin")
    assert current_sections(client.get("/search").text) == []


# -- one live region, short summaries ----------------------------------------------------------

def test_the_big_containers_are_not_live_regions(client, auth, customer_id):
    auth.sign_in("admin")
    listing = client.get("/customers/").text
    assert "aria-live" not in element(listing, "results")
    detail = client.get(f"/customers/{customer_id}/communications").text
    assert "aria-live" not in element(detail, "tab-panel")
    assert "aria-live" not in element(detail, "timeline")
    # the one live region, with the empty line summaries are said in
    toasts = element(detail, "toasts")
    assert 'role="status"' in toasts and 'aria-live="polite"' in toasts
    assert re.search(r'id="toasts"[^>]*>\s*<p id="announce" class="visually-hidden"></p>', detail)


def test_a_search_says_how_many_customers_out_of_band(client, auth):
    auth.sign_in("admin")
    with client.application.app_context():
        for name in ("Green Leaf Cafe", "Greenhouse Grocer", "Blue Heron Bistro"):
            factories.customer(name, contact=False, address=False)
    response = auth.post("/customers/search", {"q": "gre"}, page="/customers/", htmx=True)
    assert response.status_code == 200 and "<html" not in response.text
    said = re.search(r'<div hx-swap-oob="innerHTML:#announce">(.*?)</div>', response.text, re.S)
    assert said and said.group(1) == "2 customers matching “gre”"
    # the full page says it in place, with nothing out of band
    assert "hx-swap-oob" not in client.get("/customers/").text.split('id="results"')[1]


# -- the quick log, folded above the timeline --------------------------------------------------

def quick_log_fold(html):
    return re.search(r'<details class="card quick-log-fold"[^>]*>\s*<summary>([^<]*)</summary>',
                     html)


def test_the_quick_log_is_one_line_above_the_timeline(client, auth, customer_id):
    """Folded, and its form fetched when the fold is first opened (htmx), so reading the
    history does not build a form nobody fills in; without JavaScript a link opens the tab
    with the form unfolded."""
    auth.sign_in("sales")
    url = f"/customers/{customer_id}/communications"
    html = client.get(url).text
    fold = quick_log_fold(html)
    assert fold and fold.group(1) == "Log a call, email or note…"
    assert " open" not in fold.group(0) and 'id="quick-log"' not in html
    tag = re.search(r'<details class="card quick-log-fold"[^>]*>', html).group(0)
    assert f'hx-get="{url}/log"' in tag and 'hx-trigger="toggle once"' in tag
    assert f'<a href="{url}/log#quick-log">Open the form</a>' in html
    assert html.index("quick-log-fold") < html.index('id="timeline"')
    fragment = client.get(f"{url}/log", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<form id="quick-log"')
    assert f'hx-post="{url}" hx-target="#tab-panel" hx-swap="innerHTML"' in fragment
    page = client.get(f"{url}/log").text  # without JavaScript
    assert quick_log_fold(page).group(0).startswith('<details class="card quick-log-fold" open>')
    assert page.index("quick-log-fold") < page.index('id="quick-log"') < page.index('id="timeline"')


def test_the_quick_log_opens_on_errors_and_folds_after_logging(client, auth, customer_id):
    auth.sign_in("sales")
    refused = log_on_tab(auth, customer_id, {"channel": "call", "direction": "outbound",
                                             "subject": "", "body": "", "visibility": "internal"},
                         htmx=True)
    assert refused.status_code == 422
    assert " open" in quick_log_fold(refused.text).group(0)
    logged = log_on_tab(auth, customer_id, {
        "channel": "call", "direction": "outbound", "subject": "Tuesday order",
        "body": "Chef wants pea shoots.", "visibility": "internal",
        "occurred_at": "2026-11-20T09:30"}, htmx=True)
    assert logged.status_code == 200, logged.text
    assert " open" not in quick_log_fold(logged.text).group(0)
    assert logged.text.index('id="timeline"') < logged.text.index("Tuesday order")
    assert '"toast": {"message": "Logged."' in logged.headers["HX-Trigger"]


def test_the_widest_roles_navigation_stays_short_and_the_pages_it_left_are_linked(auth, client):
    """Growing data (the grower's own item), Tags and Orders for a day are opened from the
    catalogue's, the segments' and the delivery sheets' (and prices') pages by the roles that
    hold the rest of the navigation."""
    auth.sign_in("admin")
    nav = client.get("/customers/").text.split('aria-label="Main"')[1].split("</nav>")[0]
    for item in ("Growing data", ">Tags<", "Orders for a day", ">Prices<"):
        assert item not in nav
    assert 'href="/catalogue/growing"' in client.get("/catalogue/").text
    assert 'href="/prices"' in client.get("/catalogue/").text
    assert 'href="/tags"' in client.get("/segments").text
    assert 'href="/orders/for-day"' in client.get("/delivery/sheets").text
    assert 'href="/orders/for-day"' in client.get("/prices").text
