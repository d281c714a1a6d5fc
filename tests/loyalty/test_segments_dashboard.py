"""The segment pages of the loyalty dashboard: who may see them, the builder, the live count."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from oscar.test.factories import UserFactory

from loyalty.models import Segment, Tier
from loyalty.services.segments import segment_save
from tests.loyalty.factories import member_factory
from tests.stores.factories import staff_of, store

pytestmark = pytest.mark.django_db

SEGMENT_PERMISSIONS = ["view_segment", "add_segment", "change_segment", "delete_segment"]


def marketer_user():
    """A marketer as the roles contract makes them: staff, in the Marketers group."""
    group, _ = Group.objects.get_or_create(name="Marketers")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="loyalty", codename__in=SEGMENT_PERMISSIONS
        )
    )
    user = UserFactory(is_staff=True)
    user.groups.add(group)
    return user


@pytest.fixture
def marketer(client):
    user = marketer_user()
    client.force_login(user)
    return user


def gold_members(count: int):
    members = [
        member_factory(first_name=f"Gold{i}", email=f"gold{i}@example.com") for i in range(count)
    ]
    for member in members:
        member.tier = Tier.GOLD
        member.save(update_fields=["tier"])
    return members


def builder_data(**rows) -> dict:
    """POST/GET data of the builder with one row per entry of `rows` (index -> fields)."""
    data = {
        "name": "Gold members",
        "description": "",
        "match": "all",
        "group_match": "all",
        "rules_json": "",
        "conditions-TOTAL_FORMS": str(len(rows)),
        "conditions-INITIAL_FORMS": "0",
        "conditions-MIN_NUM_FORMS": "0",
        "conditions-MAX_NUM_FORMS": "50",
    }
    for index, fields in rows.items():
        data.update({f"conditions-{index[1:]}-{k}": v for k, v in fields.items()})
    return data


URL_NAMES = ["loyalty-segment-list", "loyalty-segment-create", "loyalty-segment-count"]


@pytest.mark.parametrize("url_name", URL_NAMES)
def test_a_marketer_may_open_the_segment_pages(client, marketer, url_name):
    response = client.get(reverse(f"loyalty_dashboard:{url_name}"))

    assert response.status_code == 200


@pytest.mark.parametrize("url_name", URL_NAMES)
@pytest.mark.parametrize("role", ["support", "store staff", "shopper"])
def test_other_roles_are_refused(client, role, url_name):
    if role == "support":
        user = UserFactory(is_staff=True)
        user.groups.add(Group.objects.get_or_create(name="Support")[0])
    elif role == "store staff":
        user = staff_of(store("Centre"), "staff@example.com")
    else:
        user = UserFactory()
    client.force_login(user)

    response = client.get(reverse(f"loyalty_dashboard:{url_name}"))

    assert response.status_code == 403


@pytest.mark.parametrize("url_name", URL_NAMES)
def test_anonymous_visitors_are_sent_to_sign_in(client, url_name):
    response = client.get(reverse(f"loyalty_dashboard:{url_name}"))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_menu_shows_segments_to_a_marketer(client, marketer):
    page = client.get(reverse("dashboard:index"))

    assert reverse("loyalty_dashboard:loyalty-segment-list").encode() in page.content


def test_a_marketer_builds_a_segment_and_sees_its_count(client, marketer):
    gold_members(2)
    member_factory()
    create = reverse("loyalty_dashboard:loyalty-segment-create")

    # "Add a condition" without JavaScript: the page comes back with one more row.
    more = client.post(create, {**builder_data(r0={}), "add_condition": "1"})
    assert more.status_code == 200
    assert more.context["conditions"].total_form_count() == 2
    assert 'name="conditions-1-type"' in more.content.decode()

    response = client.post(
        create, builder_data(r0={"group": 1, "type": "tier", "op": "in", "value": "gold"}, r1={})
    )

    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "loyalty_dashboard:loyalty-segment-update", kwargs={"pk": segment.pk}
    )
    assert segment.rules == {
        "match": "all",
        "conditions": [{"type": "tier", "op": "in", "value": ["gold"]}],
    }
    assert segment.created_by == marketer
    edit = client.get(response["Location"])
    assert edit.context["count"] == 2
    assert [m.email for m in edit.context["sample"]] == ["g***@example.com"] * 2
    assert 'value="gold"' in edit.content.decode()
    listing = client.get(reverse("loyalty_dashboard:loyalty-segment-list"))
    assert listing.context["rows"] == [(segment, 2)]
    # The page loads its script from a static file: nothing inline (CSP).
    assert "loyalty/js/segments.js" in edit.content.decode()
    assert "<script>" not in edit.content.decode()


def test_two_groups_combine_with_or(client, marketer):
    gold_members(1)
    may = member_factory()
    may.birthday = "1990-05-01"
    may.save(update_fields=["birthday"])
    member_factory()

    response = client.get(
        reverse("loyalty_dashboard:loyalty-segment-count"),
        {
            **builder_data(
                r0={"group": 1, "type": "tier", "op": "in", "value": "gold"},
                r1={"group": 2, "type": "birthday_month", "op": "in", "value": "5"},
            ),
            "match": "any",
        },
    )

    assert response.json()["count"] == 2


def test_bad_conditions_are_shown_and_nothing_is_saved(client, marketer):
    response = client.post(
        reverse("loyalty_dashboard:loyalty-segment-create"),
        builder_data(r0={"group": 1, "type": "points_balance", "op": "gte", "value": "many"}),
    )

    assert response.status_code == 200
    assert response.context["rule_errors"] == [
        "Condition 1 (Points balance): enter a whole number of 0 or more."
    ]
    assert not Segment.objects.exists()


def test_the_live_count_returns_the_count_and_ten_masked_members(client, marketer):
    gold_members(12)
    member_factory()
    url = reverse("loyalty_dashboard:loyalty-segment-count")
    data = builder_data(r0={"group": 1, "type": "tier", "op": "in", "value": "gold"})

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data)

    body = response.json()
    assert body["count"] == 12
    assert len(body["sample"]) == 10
    newest = body["sample"][0]
    assert (newest["name"].split()[0], newest["email"]) == ("Gold11", "g***@example.com")
    segment_queries = [
        q for q in queries if "loyalty_member" in q["sql"] and "django_session" not in q["sql"]
    ]
    assert len(segment_queries) == 2  # the count and the sample

    bad = client.get(url, builder_data(r0={"group": 1, "type": "tier", "op": "in", "value": "tin"}))
    assert bad.status_code == 400
    assert bad.json() == {
        "errors": ["Condition 1 (Tier): unknown tier ['tin'] (bronze, silver, gold)."]
    }


def test_deeper_rules_are_edited_as_json(client, marketer):
    rules = {
        "match": "any",
        "conditions": [
            {"type": "tier", "op": "in", "value": ["gold"]},
            {"match": "all", "conditions": [{"type": "joined_within", "op": "lte", "value": 30}]},
        ],
    }
    segment = segment_save(name="Mixed", rules=rules)

    page = client.get(
        reverse("loyalty_dashboard:loyalty-segment-update", kwargs={"pk": segment.pk})
    )

    assert page.context["form"].initial["rules_json"].startswith("{")
    response = client.post(
        reverse("loyalty_dashboard:loyalty-segment-update", kwargs={"pk": segment.pk}),
        {**builder_data(), "name": "Mixed", "rules_json": '{"match": "all", "conditions": []}'},
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert (segment.rules, segment.version) == ({"match": "all", "conditions": []}, 2)


def test_a_marketer_deletes_a_segment(client, marketer):
    segment = segment_save(name="Old", rules={})

    response = client.post(
        reverse("loyalty_dashboard:loyalty-segment-delete", kwargs={"pk": segment.pk})
    )

    assert response.status_code == 302
    assert not Segment.objects.exists()
