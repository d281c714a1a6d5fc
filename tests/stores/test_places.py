"""Offline city/postcode lookup."""

import pytest

from stores.places import place_lookup


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
    ],
)
def test_lookup_by_postcode_or_name(query, name):
    assert place_lookup(query=query).name == name


@pytest.mark.parametrize("query", ["", "   ", "99999", "Atlantis"])
def test_unknown_places_are_none(query):
    assert place_lookup(query=query) is None
