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
