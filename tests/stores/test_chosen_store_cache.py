"""stores/selectors/choice.py: the store chosen in the session comes from the cache, yet a
store renamed, moved to another partner, closed down or deleted shows so at once."""

import pytest
from oscar.core.loading import get_model

from stores.selectors import SESSION_STORE_KEY, chosen_store
from tests.stores.factories import store

pytestmark = pytest.mark.django_db

Partner = get_model("partner", "Partner")


class Session(dict):
    """What chosen_store reads of a session."""


def chosen(store_id: int):
    return chosen_store(session=Session({SESSION_STORE_KEY: store_id}), user=None)


def test_a_cached_store_follows_its_changes(django_assert_num_queries):
    centre = store("Centre")
    assert chosen(centre.pk).name == "Centre"
    with django_assert_num_queries(0):
        assert chosen(centre.pk).name == "Centre"

    centre.name = "Centre-ville"
    centre.save()
    assert chosen(centre.pk).name == "Centre-ville"
    other = Partner.objects.create(name="Franchise", code="franchise")
    centre.partner = other
    centre.save()
    assert (chosen(centre.pk).partner.name, chosen(centre.pk).partner_id) == ("Franchise", other.pk)
    other.name = "Franchise Est"
    other.save()
    assert chosen(centre.pk).partner.name == "Franchise Est"
    centre.is_active = False
    centre.save()
    assert chosen(centre.pk) is None
    centre.is_active = True
    centre.save()
    assert chosen(centre.pk) is not None
    centre.delete()
    assert chosen(centre.pk) is None
