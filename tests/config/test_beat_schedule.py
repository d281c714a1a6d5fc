"""Celery beat's schedule names only tasks a worker knows."""

from django.conf import settings

from config.celery_app import app


def test_every_beat_task_is_registered_with_the_worker():
    """A task in the beat schedule that the worker does not know would be dropped daily."""
    app.loader.import_default_modules()  # what a worker does at start-up (autodiscovery)
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled - set(app.tasks) == set()
