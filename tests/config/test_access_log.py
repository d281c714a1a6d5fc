"""The access log keeps no shopper position (README "Privacy"): gunicorn, started as the
Dockerfile, docker-compose.yml and the Makefile start it (it reads gunicorn.conf.py from
the working directory), logs the path of a request, not its query string or Referer."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.celery_worker import ROOT, database_url_for_worker, free_port

# gunicorn runs in another process: it needs a database it can reach, which the in-memory
# SQLite test database is not.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_the_access_log_leaves_out_the_position_in_the_query_and_the_referer(tmp_path):
    log, port = tmp_path / "access.log", free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--access-logfile", str(log), "--control-socket", str(tmp_path / "gunicorn.ctl")],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url_for_worker(),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status = requests.get(
                    f"http://127.0.0.1:{port}/stores/?lat=48.58180&lng=7.75090",
                    headers={"Referer": f"http://127.0.0.1:{port}/checkout/pickup/?lat=48.58180"},
                    timeout=5,
                ).status_code
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        deadline = time.monotonic() + 10
        while not (log.exists() and log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=15)

    (line,) = log.read_text().splitlines()
    assert status == 200
    assert '"GET /stores/ HTTP/1.1" 200' in line
    assert "48.58" not in line and "7.75" not in line
    assert "/checkout/" not in line
