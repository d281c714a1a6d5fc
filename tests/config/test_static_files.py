"""Static files as production serves them: hashed names, compressed, cached for a year."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import json, django
    django.setup()
    from django.test import Client
    from django.templatetags.static import static

    url = static("shop/css/shop.css")
    response = Client().get(url, HTTP_ACCEPT_ENCODING="br, gzip")
    print(json.dumps({
        "url": url,
        "status": response.status_code,
        "encoding": response.get("Content-Encoding"),
        "cache": response.get("Cache-Control"),
    }))
    """
)


def test_static_files_are_hashed_compressed_and_cached_far_into_the_future(tmp_path):
    # Given collectstatic has run, as `make run` and the Docker image do
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "False",
        "STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collect.returncode == 0, collect.stderr

    # When a browser asks for our stylesheet
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert probe.returncode == 0, probe.stderr
    served = json.loads(probe.stdout.strip().splitlines()[-1])

    # Then WhiteNoise serves the hashed, Brotli-compressed copy, immutable for 10 years
    assert served["url"].startswith("/static/shop/css/shop.")
    assert served["url"].endswith(".css") and served["url"] != "/static/shop/css/shop.css"
    assert served["status"] == 200
    assert served["encoding"] == "br"
    assert served["cache"] == "max-age=315360000, public, immutable"
