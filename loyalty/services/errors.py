"""Errors the loyalty services raise; each message can be shown to the person who acted."""


class LoyaltyError(Exception):
    """A request the programme refuses; nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidAmount(LoyaltyError):
    pass


class ReasonRequired(LoyaltyError):
    pass


class InsufficientPoints(LoyaltyError):
    pass


class IdempotencyConflict(LoyaltyError):
    pass


class OverAdjustmentLimit(LoyaltyError):
    """More points than one adjustment or a member of staff's day allows."""


class NotAtYourStore(LoyaltyError):
    """Store staff adjust points only at the counter of a store they work for."""


class AdjustmentNotPending(LoyaltyError):
    """The adjustment needs no decision, or already has one."""


class SelfApprovalRefused(LoyaltyError):
    """Nobody approves or rejects an adjustment they asked for."""
