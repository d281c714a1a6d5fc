from oscar.apps.partner.exceptions import *  # noqa: F403

# Raised by stores/stock.py, the module every stock allocation goes through.
from stores.stock import InsufficientStock  # noqa: F401
