"""The WSGI application gunicorn serves in bench/pages_http.py: config/wsgi.py (the side's
DJANGO_SETTINGS_MODULE, the worker warmed up), with the database connection kept for
CONN_MAX_AGE seconds as config/settings/core.py does in production. config.settings.test
closes it after each request (for the test suite's live-server threads); the in-process
side's test client keeps it, so without this the HTTP side alone would connect to
PostgreSQL again for every request."""

import os

from django.db import connections

from config.wsgi import application

connections["default"].settings_dict["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "60"))

__all__ = ["application"]
