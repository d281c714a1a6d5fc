"""Offline lookup of a typed city, district or postcode around Strasbourg (and of the main
French cities, so that the locator can say there is no store near them).

The shipped CSV (stores/data/places.csv) is small and read once per process:
no geocoding service is called, so the locator works without any API key.
"""

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PLACES_CSV = Path(__file__).resolve().parent / "data" / "places.csv"


@dataclass(frozen=True)
class Place:
    name: str
    postcode: str
    latitude: float
    longitude: float


def _normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.casefold().replace("-", " ").replace("'", " ").split())


@cache
def _places() -> tuple[Place, ...]:
    with PLACES_CSV.open(encoding="utf-8", newline="") as handle:
        return tuple(
            Place(row["name"], row["postcode"], float(row["latitude"]), float(row["longitude"]))
            for row in csv.DictReader(handle)
        )


def place_lookup(*, query: str) -> Place | None:
    """The place a shopper means by `query`: a postcode, a name, or the start of a name.

    A postcode gives its first listed place (the main commune); names match
    without regard to case, accents or hyphens, exact names before prefixes.
    """
    wanted = _normalise(query)
    if not wanted:
        return None
    if wanted.isdigit():
        return next((p for p in _places() if p.postcode == wanted), None)
    by_name = [(p, _normalise(p.name)) for p in _places()]
    for place, name in by_name:
        if name == wanted:
            return place
    for place, name in by_name:
        if name.startswith(wanted) or name.split(" ", 1)[-1] == wanted:
            return place
    return None


def place_names() -> list[str]:
    """Every name once (a city is listed once per postcode), for the locator's suggestions
    (a <datalist>)."""
    return list(dict.fromkeys(p.name for p in _places()))
