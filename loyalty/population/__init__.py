"""A large synthetic population of members, for benchmarks and demos (README, "Synthetic
population"): `manage.py population_generate`.

Members are generated in batches; each batch (users, members, their orders with lines and
pickups, points, consents, home stores, one message in their language) is one
transaction, generated from its own random stream `Random(f"{seed}:{batch}")`, so:

- the same seed, sizes and day give the same rows, whatever the batch an interrupted run
  resumes from (a second run continues where the first stopped, and does nothing once
  the population is complete);
- a population is named by its seed (usernames `pop<seed>-<index>`), so populations of
  different seeds can live side by side.

Orders are written as history (already collected, or cancelled), like the demo's past
orders: no stock is allocated today and no message is sent. Points go through the
ledger's bulk import (`points_history_write`): the balance is the sum of the entries and
of the lots' remainders for every member. Loyalty never imports shop: Oscar's and the
other apps' models are read through the app registry.

Modules: `plan` (plan, totals, names), `references` (catalogue, stores, pickup slots),
`batch` (one batch), `generate` (the whole population), `demo_segments`; every name below
is importable from loyalty.population.
"""

from .batch import (
    member_number,
)
from .demo_segments import (
    STRASBOURG,
    demo_segments,
    demo_segments_save,
)
from .generate import (
    population_generate,
    population_members_done,
    progress_line,
)
from .plan import (
    HOME_DELIVERY,
    MAX_MEMBERS,
    Catalogue,
    PopulationError,
    PopulationPlan,
    PopulationTotals,
)
from .references import (
    SlotBook,
)

__all__ = [
    "Catalogue",
    "HOME_DELIVERY",
    "MAX_MEMBERS",
    "PopulationError",
    "PopulationPlan",
    "PopulationTotals",
    "STRASBOURG",
    "SlotBook",
    "demo_segments",
    "demo_segments_save",
    "member_number",
    "population_generate",
    "population_members_done",
    "progress_line",
]
