"""The Tags page: every tag with its count (one grouped query), and for managers rename
(refused when the name exists, 409 when someone saved first), recolour, describe, merge and
delete; sales sees the counts but changes nothing."""
import re

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.common import SYSTEM
from crm.extensions import db
from crm.segments.models import CustomerTag, Tag
from crm.segments.tags import (
    TagError,
    add_tag,
    customer_tags,
    find_or_create_tag,
    merge_tags,
    tags_with_counts,
    update_tag,
)
from tests import factories
from tests.customers.test_list import queries_for


@pytest.fixture
def tagged(app):
    """Three customers: all three "Wholesale", the first two "Farmers Market" too."""
    with app.app_context():
        ids = [factories.customer(f"Tagged {n}").id for n in range(3)]
        wholesale = find_or_create_tag("Wholesale", actor=SYSTEM)
        market = find_or_create_tag("Farmers Market", actor=SYSTEM)
        add_tag(ids, wholesale, actor=SYSTEM)
        add_tag(ids[:2], market, actor=SYSTEM)
        db.session.commit()
        return {"customers": ids, "wholesale": wholesale.id, "market": market.id}


def edit_data(tag_id, **values):
    prefix = f"tag-{tag_id}-"
    return {f"{prefix}{k}": v for k, v in values.items()}


def test_the_page_lists_every_tag_with_its_count_in_one_query(app, client, auth, tagged):
    auth.sign_in("manager")
    page = client.get("/tags").text
    assert re.search(r'Farmers Market</span></th>\s*<td class="num"><a href="/customers/\?tag='
                     rf'{tagged["market"]}">2<', page)
    assert f'href="/customers/?tag={tagged["wholesale"]}">3<' in page
    assert f'href="/tags/{tagged["market"]}/edit"' in page
    few = queries_for(app, client, "/tags")
    with app.app_context():
        for n in range(5):
            find_or_create_tag(f"Extra {n}", actor=SYSTEM)
        db.session.commit()
        assert len(tags_with_counts()) == 7
    assert queries_for(app, client, "/tags") == few


def test_sales_sees_the_counts_but_not_the_edit_controls(app, client, auth, tagged):
    auth.sign_in("sales")
    page = client.get("/tags").text
    assert "Farmers Market" in page and "Managers rename, merge and delete tags." in page
    assert "/edit" not in page
    assert client.get(f"/tags/{tagged['market']}/edit").status_code == 403
    token = auth.token("/tags")
    for url, data in ((f"/tags/{tagged['market']}/merge",
                       {f"merge-{tagged['market']}-into": tagged["wholesale"]}),
                      (f"/tags/{tagged['market']}/delete", {})):
        assert client.post(url, data=data, headers={"X-CSRFToken": token}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Tag)) == 2


@pytest.mark.parametrize("role", ["viewer", "delivery", "grower"])
def test_viewer_and_delivery_have_no_tags_page(client, auth, role):
    auth.sign_in(role)
    assert client.get("/tags").status_code == 403
    assert 'href="/tags"' not in client.get("/customers/").text


def test_a_manager_renames_recolours_and_describes_in_place(app, client, auth, tagged):
    auth.sign_in("manager")
    url = f"/tags/{tagged['market']}/edit"
    form = client.get(url, headers={"HX-Request": "true"})
    assert form.text.lstrip().startswith('<tr id="tag-') and "<html" not in form.text
    response = auth.post(url, edit_data(tagged["market"], name=" Farmers  market stall ",
                                        colour="amber", description="Saturday stalls",
                                        version="1"), htmx=True)
    assert response.status_code == 200
    assert '<span class="tag-chip tag-amber"' in response.text
    assert "Farmers market stall" in response.text and "Saturday stalls" in response.text
    with app.app_context():
        tag = db.session.get(Tag, tagged["market"])
        assert (tag.name, tag.name_key, tag.colour, tag.version) == (
            "Farmers market stall", "farmers market stall", "amber", 2)
        assert db.session.scalars(select(AuditEvent.fields).where(
            AuditEvent.entity_type == "tag", AuditEvent.action == "update")).all() == [
                ["colour", "description", "name"]]


def test_renaming_to_a_name_that_exists_suggests_merging(app, client, auth, tagged):
    auth.sign_in("manager")
    response = auth.post(f"/tags/{tagged['market']}/edit",
                         edit_data(tagged["market"], name="  WHOLESALE", colour="",
                                   description="", version="1"), htmx=True)
    assert response.status_code == 422
    assert "There is already a tag “Wholesale”." in response.text
    assert "merge this one into it" in response.text
    assert 'value="  WHOLESALE"' in response.text or 'value="WHOLESALE"' in response.text
    with app.app_context():
        assert db.session.get(Tag, tagged["market"]).name == "Farmers Market"


def test_an_unknown_colour_and_a_bad_name_are_refused(app_ctx, tagged):
    tag = db.session.get(Tag, tagged["market"])
    with pytest.raises(TagError, match="Choose one of the colours"):
        update_tag(tag, name="Market", colour="#ff0000", description=None,
                   expected_version=1, actor=SYSTEM)
    with pytest.raises(TagError, match="Type a tag name"):
        update_tag(tag, name="   ", colour=None, description=None, expected_version=1,
                   actor=SYSTEM)


def test_two_renaming_one_tag_at_once_the_second_gets_409_and_nothing_changes(
        app, client, auth, tagged):
    auth.sign_in("manager")
    url = f"/tags/{tagged['market']}/edit"
    first = auth.post(url, edit_data(tagged["market"], name="Market", colour="", description="",
                                     version="1"), htmx=True)
    assert first.status_code == 200
    second = auth.post(url, edit_data(tagged["market"], name="Farm market", colour="red",
                                      description="", version="1"), htmx=True)
    assert second.status_code == 409
    assert "Someone else changed this tag while you were editing it. Nothing was saved." in \
        second.text
    assert "It is now called “Market”" in second.text
    assert 'name="tag-1-version" type="hidden" value="2"'.replace("tag-1", f"tag-{tagged['market']}") \
        in second.text  # saving again is a deliberate overwrite
    with app.app_context():
        tag = db.session.get(Tag, tagged["market"])
        assert (tag.name, tag.colour, tag.version) == ("Market", None, 2)


def test_merging_keeps_one_row_per_customer_and_deletes_the_merged_tag(app, client, auth,
                                                                       tagged):
    auth.sign_in("manager")
    market, wholesale = tagged["market"], tagged["wholesale"]
    with app.app_context():
        only_market = factories.customer("Only Market").id
        add_tag([only_market], db.session.get(Tag, market), actor=SYSTEM)
        db.session.commit()
    response = auth.post(f"/tags/{market}/merge", {f"merge-{market}-into": str(wholesale)},
                         page="/tags")
    assert response.status_code == 303
    assert "“Farmers Market” merged into “Wholesale” (1 customer moved over)." in \
        client.get(response.headers["Location"]).text
    with app.app_context():
        assert db.session.get(Tag, market) is None
        rows = db.session.execute(select(CustomerTag.customer_id, CustomerTag.tag_id)).all()
        assert sorted(rows) == sorted([(c, wholesale) for c in tagged["customers"]]
                                      + [(only_market, wholesale)])
        assert db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_type == "tag", AuditEvent.entity_id == market)
            .order_by(AuditEvent.id)).all()[-1] == "merge"
    # the list filtered by the old tag shows the tag it went into
    listed = client.get(f"/customers/?tag={market}").text
    assert "Only Market" in listed and "Tagged 0" in listed


def test_merging_into_itself_or_nothing_is_refused(app, client, auth, tagged):
    auth.sign_in("manager")
    market = tagged["market"]
    response = auth.post(f"/tags/{market}/merge", {f"merge-{market}-into": ""}, page="/tags",
                         htmx=True)
    assert response.status_code == 422 and "Choose the tag to merge into." in response.text
    with app.app_context():
        with pytest.raises(TagError):
            tag = db.session.get(Tag, market)
            merge_tags(tag, tag, actor=SYSTEM)


def test_deleting_a_tag_takes_it_off_its_customers(app, client, auth, tagged):
    auth.sign_in("admin")
    response = auth.post(f"/tags/{tagged['market']}/delete", page="/tags")
    assert response.status_code == 303
    assert "Tag “Farmers Market” deleted (taken off 2 customers)." in \
        client.get(response.headers["Location"]).text
    with app.app_context():
        assert [t.name for t in customer_tags(tagged["customers"][0])] == ["Wholesale"]
        assert db.session.scalar(select(func.count()).select_from(CustomerTag)) == 3
    listed = client.get(f"/customers/?tag={tagged['market']}")
    assert listed.status_code == 200
    assert "That tag no longer exists (it was deleted). Choose another tag." in listed.text
