"""Demo accounts: a shopper, one member of staff per shop, one person for each HQ role
(catalogue manager, marketer, support) and an administrator.

Users are identified by email (also used as the username; Oscar signs in by
email). The passwords are public demo credentials, printed by `seed_demo`.
"""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    SHOPPER = "shopper"
    STORE_STAFF = "store staff"
    CATALOGUE_MANAGER = "catalogue manager"
    MARKETER = "marketer"
    SUPPORT = "support"
    ADMIN = "administrator"


@dataclass(frozen=True)
class UserSpec:
    email: str
    first_name: str
    last_name: str
    password: str
    role: Role
    # The shop whose orders and stock a member of store staff manages.
    partner_code: str = ""


USERS: tuple[UserSpec, ...] = (
    UserSpec("shopper@solomo.example", "Camille", "Martin", "solomo-shopper", Role.SHOPPER),
    UserSpec(
        "staff.centre@solomo.example",
        "Lucas",
        "Muller",
        "solomo-staff",
        Role.STORE_STAFF,
        "strasbourg-centre",
    ),
    UserSpec(
        "staff.krutenau@solomo.example",
        "Léa",
        "Schmitt",
        "solomo-staff",
        Role.STORE_STAFF,
        "strasbourg-krutenau",
    ),
    UserSpec(
        "staff.neudorf@solomo.example",
        "Hugo",
        "Meyer",
        "solomo-staff",
        Role.STORE_STAFF,
        "strasbourg-neudorf",
    ),
    UserSpec(
        "staff.robertsau@solomo.example",
        "Chloé",
        "Weber",
        "solomo-staff",
        Role.STORE_STAFF,
        "strasbourg-robertsau",
    ),
    UserSpec(
        "catalogue@solomo.example",
        "Nathan",
        "Roth",
        "solomo-catalogue",
        Role.CATALOGUE_MANAGER,
    ),
    UserSpec("marketing@solomo.example", "Inès", "Klein", "solomo-marketer", Role.MARKETER),
    UserSpec("support@solomo.example", "Manon", "Fischer", "solomo-support", Role.SUPPORT),
    UserSpec("admin@solomo.example", "Solomo", "Admin", "solomo-admin", Role.ADMIN),
)
