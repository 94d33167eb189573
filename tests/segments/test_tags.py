"""The core of tags: one tag whatever its case and spacing, names that cannot be used, and
putting tags on and off many customers at once."""
import pytest

from crm.common import SYSTEM
from crm.extensions import db
from crm.segments.tags import (
    TagError,
    add_tag,
    customer_tags,
    find_or_create_tag,
    remove_tag,
    usage_counts,
)
from tests import factories


def test_farmers_market_in_any_case_and_spacing_is_one_tag(app_ctx):
    first = find_or_create_tag("Farmers Market", actor=SYSTEM)
    again = find_or_create_tag("  farmers   market ", actor=SYSTEM)
    assert again.id == first.id and first.name == "Farmers Market"


@pytest.mark.parametrize("name, message", [("   ", "Type a tag name."),
                                           ("x" * 200, "at most 60 characters")])
def test_a_name_of_only_spaces_or_200_characters_is_refused(app_ctx, name, message):
    with pytest.raises(TagError, match=message):
        find_or_create_tag(name, actor=SYSTEM)


def test_tags_go_on_and_off_many_customers_once_each(app_ctx):
    customers = [factories.customer(name=f"Bistro {i}") for i in range(3)]
    ids = [c.id for c in customers]
    tag = find_or_create_tag("Wholesale", actor=SYSTEM)
    assert add_tag(ids[:2], tag, actor=SYSTEM) == 2
    assert add_tag(ids, tag, actor=SYSTEM) == 1  # the first two have it already
    assert usage_counts() == {tag.id: 3}
    assert remove_tag(ids[1:], tag, actor=SYSTEM) == 2
    db.session.commit()
    assert [t.name for t in customer_tags(ids[0])] == ["Wholesale"]
    assert customer_tags(ids[2]) == []
