"""Offline city/postcode lookup."""

import pytest

from stores.places import place_lookup, place_names


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("67000", "Strasbourg"),
        ("67300", "Schiltigheim"),
        (" strasbourg ", "Strasbourg"),
        ("Sélestat", "Sélestat"),
        ("selestat", "Sélestat"),
        ("illkirch graffenstaden", "Illkirch-Graffenstaden"),
        ("Illkirch", "Illkirch-Graffenstaden"),
        ("krutenau", "Strasbourg Krutenau"),
        ("LA WANTZENAU", "La Wantzenau"),
        ("Paris", "Paris"),
        ("75001", "Paris"),
        ("75116", "Paris"),
        ("69003", "Lyon"),
    ],
)
def test_lookup_by_postcode_or_name(query, name):
    assert place_lookup(query=query).name == name


@pytest.mark.parametrize("query", ["", "   ", "99999", "75999", "Atlantis"])
def test_unknown_places_are_none(query):
    assert place_lookup(query=query) is None


def test_each_name_is_suggested_once():
    names = place_names()

    assert len(names) == len(set(names))
    assert {"Paris", "Strasbourg", "Sélestat"} <= set(names)
