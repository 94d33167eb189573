from tests import factories


def test_list_shows_customers_and_search_finds_by_word_prefixes(app, client, auth):
    auth.sign_in("viewer")
    with app.app_context():
        factories.customer("Blue Heron Bistro")
        factories.customer("Golden Radish Cafe")
    page = client.get("/customers/")
    assert page.status_code == 200
    assert "<html" in page.text and "Blue Heron Bistro" in page.text and "Golden Radish Cafe" in page.text

    found = client.get("/customers/?q=blu+her", headers={"HX-Request": "true"})
    assert found.status_code == 200
    assert "<html" not in found.text  # an htmx request gets the results fragment
    assert "Blue Heron Bistro" in found.text and "Golden Radish Cafe" not in found.text
    assert "HX-Request" in found.headers["Vary"]
