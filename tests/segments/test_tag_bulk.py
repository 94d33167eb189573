"""Bulk tagging from the customer list: a checkbox per row, all on the page, or all that match
the list's filters; up to a page in the request, more as a job (ids only, inline without Redis,
on a real queue with a worker), with its progress and how many got or lost the tag."""
import pytest
from sqlalchemy import func, select

from crm.common import SYSTEM, Actor
from crm.extensions import db
from crm.jobs.models import JobRun
from crm.security.encryption import seal
from crm.segments.models import CustomerTag, Tag
from crm.segments.tags import add_tag, find_or_create_tag

PER_PAGE = 3


@pytest.fixture
def listed(app):
    """Eight grocers and two caterers (bulk-made), pages of PER_PAGE."""
    from crm.customers.services import create_customers

    app.config["CUSTOMERS_PER_PAGE"] = PER_PAGE
    with app.app_context():
        ids = create_customers(
            [{"name": f"Bulk Grocer {n}", "kind": "grocer", "status": "active"}
             for n in range(8)]
            + [{"name": f"Bulk Caterer {n}", "kind": "caterer", "status": "lead"}
               for n in range(2)], actor=SYSTEM)
        db.session.commit()
    yield ids
    app.config["CUSTOMERS_PER_PAGE"] = 25


def tagged_with(app, name):
    with app.app_context():
        return sorted(db.session.scalars(
            select(CustomerTag.customer_id).join(Tag).where(Tag.name == name)))


def bulk(auth, action, htmx=True, **form):
    return auth.post(f"/tags/bulk/{action}", form, page="/customers/", htmx=htmx)


def test_the_list_has_a_labelled_checkbox_per_row_and_the_bulk_bar(app, client, auth, listed):
    auth.sign_in("sales")
    page = client.get("/customers/").text
    assert (f'<input type="checkbox" name="customer_id" value="{listed[0]}" '
            f'id="pick-{listed[0]}" form="list-selection">') in page
    assert f'<label for="pick-{listed[0]}" class="visually-hidden">Choose CUST-' in page
    assert "All 3 on this page" in page and 'value="all"' in page
    assert 'hx-get="/customers/count' in page
    assert client.get("/customers/count?kind=grocer").text == "8 customers"
    tag = None
    with app.app_context():
        tag = find_or_create_tag("Wholesale", actor=SYSTEM)
        db.session.commit()
        tag_id = tag.id
    assert client.get(f"/customers/count?tag={tag_id}").text == "0 customers"


@pytest.mark.parametrize("role", ["viewer", "delivery", "grower"])
def test_viewer_and_delivery_get_no_checkboxes_and_cannot_bulk_tag(client, auth, listed,
                                                                   role):
    auth.sign_in(role)
    page = client.get("/customers/").text
    assert 'type="checkbox"' not in page and "list-selection" not in page
    response = client.post("/tags/bulk/add", data={"tag_name": "X", "scope": "all"},
                           headers={"X-CSRFToken": auth.token()})
    assert response.status_code == 403


def test_the_ticked_ones_get_the_tag_in_the_request(app, client, auth, listed):
    auth.sign_in("sales")
    response = bulk(auth, "add", tag_name=" wholesale ", scope="ticked",
                    customer_id=[str(listed[0]), str(listed[2])])
    assert response.status_code == 200 and "<html" not in response.text
    assert "“wholesale” added to 2 customers." in response.text
    assert tagged_with(app, "wholesale") == [listed[0], listed[2]]
    again = bulk(auth, "add", tag_name="Wholesale", scope="page",
                 page_id=[str(i) for i in listed[:3]])
    assert "added to 1 customer; 2 customers had it already." in again.text
    assert tagged_with(app, "wholesale") == listed[:3]


def test_nothing_ticked_or_no_tag_is_refused(app, client, auth, listed):
    auth.sign_in("sales")
    nothing = bulk(auth, "add", tag_name="Wholesale", scope="ticked")
    assert nothing.status_code == 422 and "Tick the customers first" in nothing.text
    spaces = bulk(auth, "add", tag_name="   ", scope="page", page_id=[str(listed[0])])
    assert spaces.status_code == 422 and "Type a tag name." in spaces.text
    unknown = bulk(auth, "remove", tag_name="Nope", scope="page", page_id=[str(listed[0])])
    assert unknown.status_code == 422 and "No tag is called “Nope”" in unknown.text
    too_many = bulk(auth, "add", tag_name="Wholesale", scope="ticked",
                    customer_id=[str(i) for i in listed[:PER_PAGE + 1]])
    assert too_many.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CustomerTag)) == 0


def test_removing_a_page_without_javascript_redirects_back_to_the_list(app, client, auth,
                                                                       listed):
    auth.sign_in("finance")
    with app.app_context():
        add_tag(listed, find_or_create_tag("Paused", actor=SYSTEM), actor=SYSTEM)
        db.session.commit()
    response = bulk(auth, "remove", htmx=False, tag_name="paused", scope="page",
                    kind="grocer", page_id=[str(i) for i in listed[:3]])
    assert response.status_code == 303
    assert response.headers["Location"] == "/customers/?kind=grocer"
    assert "“Paused” taken off 3 customers." in client.get(response.headers["Location"]).text
    assert tagged_with(app, "Paused") == listed[3:]


def test_all_that_match_up_to_a_page_runs_in_the_request(app, client, auth, listed):
    auth.sign_in("sales")
    response = bulk(auth, "add", tag_name="Caterers", scope="all", kind="caterer")
    assert "“Caterers” added to 2 customers." in response.text
    assert tagged_with(app, "Caterers") == listed[8:]
    with app.app_context():
        assert db.session.scalars(select(JobRun)).all() == []


def test_all_that_match_beyond_a_page_is_a_job_of_ids_inline_without_redis(app, client, auth,
                                                                          listed):
    auth.sign_in("sales")
    with app.app_context():
        add_tag(listed[:5], find_or_create_tag("North", actor=SYSTEM), actor=SYSTEM)
        db.session.commit()
        north = find_or_create_tag("North", actor=SYSTEM).id
    response = bulk(auth, "add", tag_name="Route north", scope="all", kind="grocer",
                    tag=str(north))
    assert response.status_code == 200
    with app.app_context():
        run = db.session.scalars(select(JobRun)).one()
        route_north = db.session.scalar(select(Tag.id).where(Tag.name == "Route north"))
        assert run.name == "bulk_tag" and run.status == "finished"
        assert run.params == {"tag_id": route_north, "add": True, "archived": False,
                              "kind": 1, "status": None, "filter_tag": north}
        assert run.result == {"matched": 5, "changed": 5}
        run_id = run.id
    assert "“Route north” added to 5 customers." in response.text
    assert tagged_with(app, "Route north") == listed[:5]
    polled = client.get(f"/tags/bulk/runs/{run_id}", headers={"HX-Request": "true"})
    assert polled.status_code == 286 and "added to 5 customers" in polled.text


def test_removing_from_all_that_match_on_a_real_queue_shows_progress(app, client, auth,
                                                                     listed, real_queue):
    auth.sign_in("manager")
    with app.app_context():
        add_tag(listed, find_or_create_tag("Sample", actor=SYSTEM), actor=SYSTEM)
        db.session.commit()
    response = bulk(auth, "remove", tag_name="SAMPLE", scope="all", status="active")
    assert response.status_code == 200
    with app.app_context():
        run = db.session.scalars(select(JobRun)).one()
        assert run.status == "queued" and run.params["status"] is not None
        run_id = run.id
    assert f'hx-get="/tags/bulk/runs/{run_id}"' in response.text
    assert 'hx-trigger="every 1s"' in response.text
    waiting = client.get(f"/tags/bulk/runs/{run_id}", headers={"HX-Request": "true"})
    assert waiting.status_code == 200 and "<progress" in waiting.text
    assert tagged_with(app, "Sample") == listed  # nothing yet: no worker ran
    assert real_queue.work()
    done = client.get(f"/tags/bulk/runs/{run_id}", headers={"HX-Request": "true"})
    assert done.status_code == 286
    assert "“Sample” taken off 8 customers." in done.text
    assert tagged_with(app, "Sample") == listed[8:]  # the caterers are leads
    page = client.get(f"/tags/bulk/runs/{run_id}")
    assert "<html" in page.text and "taken off 8 customers" in page.text


def test_another_users_run_is_not_found(app, client, auth, listed):
    auth.sign_in("sales")
    with app.app_context():
        from crm.jobs.services import enqueue

        tag = find_or_create_tag("Theirs", actor=SYSTEM)
        db.session.flush()
        run = enqueue("bulk_tag", actor=SYSTEM, tag_id=tag.id, add=True)
        db.session.commit()
        run_id = run.id
    assert client.get(f"/tags/bulk/runs/{run_id}").status_code == 404


def test_all_that_match_a_typed_search_goes_by_ids_in_the_request_up_to_a_limit(
        app, client, auth, listed, monkeypatch):
    auth.sign_in("sales")
    with app.test_request_context():
        sealed = seal("bulk grocer", actor=Actor("staff", auth.user_id))
    response = bulk(auth, "add", tag_name="Grocers", scope="all", s=sealed)
    assert "“Grocers” added to 8 customers." in response.text
    assert tagged_with(app, "Grocers") == listed[:8]
    monkeypatch.setattr("crm.segments.tag_views.BULK_SEARCH_LIMIT", 5)
    refused = bulk(auth, "add", tag_name="Too many", scope="all", s=sealed)
    assert refused.status_code == 422 and "More than 5 customers match the search." in \
        refused.text
    with app.app_context():
        assert db.session.scalars(select(JobRun)).all() == []
        # the typed search never reaches a job's arguments
        assert tagged_with(app, "Too many") == []


def test_without_javascript_a_job_leads_to_its_progress_page_and_a_refusal_back(app, client,
                                                                               auth, listed):
    auth.sign_in("sales")
    response = bulk(auth, "add", htmx=False, tag_name="Everyone", scope="all")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/tags/bulk/runs/")
    page = client.get(response.headers["Location"]).text
    assert "<h1>Tagging customers</h1>" in page
    assert "“Everyone” added to 10 customers." in page
    refused = bulk(auth, "add", htmx=False, tag_name="Everyone", scope="ticked")
    assert refused.status_code == 303 and refused.headers["Location"] == "/customers/"
    assert "Tick the customers first" in client.get("/customers/").text
