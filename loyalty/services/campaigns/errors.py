"""The error every campaign action raises when it refuses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyalty.services.errors import LoyaltyError

if TYPE_CHECKING:
    pass


class CampaignError(LoyaltyError):
    """A campaign action refused; nothing was changed."""
