import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

application = get_wsgi_application()

# README, "Performance": the first request of a new worker is as fast as the next ones.
from shop.warmup import worker_warm_up  # noqa: E402

worker_warm_up()
