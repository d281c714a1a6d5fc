"""English dates as in Britain: the shop is in Europe, so "4 December 2026" and "04/12/2026",
never the US "Dec. 4, 2026" or "12/04/2026" (README, "Environment variables")."""

from django.conf.locale.en_GB.formats import *  # noqa: F403  (Django's British formats)

# Times on the 24-hour clock, as the shop's stores and slots read them ("14:05").
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
