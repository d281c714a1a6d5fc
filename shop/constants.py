"""Order and line statuses of the shop, defined once (docs/architecture.md, "Constants").

Plain Python, importing nothing, so that config/settings/oscar.py can build Oscar's
status pipelines from these names and the code can compare against the same names.
"""

# A card order waits here with its stock, slot and points held.
AWAITING_PAYMENT = "Pending payment"
# A payment whose amount or currency differs from the order's is held for review.
PAYMENT_REVIEW = "Payment review"
# Paid (or to be paid at pickup): Oscar's initial status of an order and of a line.
PAID = "Pending"
BEING_PROCESSED = "Being processed"
COMPLETE = "Complete"
CANCELLED = "Cancelled"
