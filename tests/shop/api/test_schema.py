"""The API's schema: OpenAPI 3.1, committed as docs/openapi.yaml and kept equal to the
code; its Swagger UI page loads only our own static files under the site's CSP (R34)."""

import re
from pathlib import Path

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "docs" / "openapi.yaml"


def test_the_committed_schema_is_the_one_the_code_generates(tmp_path):
    generated = tmp_path / "openapi.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(generated))

    assert generated.read_text() == COMMITTED.read_text(), (
        "docs/openapi.yaml differs from the API's code: run `make openapi` and commit it"
    )
    assert yaml.safe_load(COMMITTED.read_text())["openapi"] == "3.1.0"


@pytest.mark.django_db
def test_the_schema_is_served_and_the_docs_page_runs_only_our_scripts():
    client = APIClient()

    schema = client.get(reverse("api:schema"))
    page = client.get(reverse("api:docs"))

    assert schema.status_code == page.status_code == 200
    html = page.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", page["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script([^>]*)>", html)
    styles = re.findall(r"<style([^>]*)>", html)
    assert scripts and all(re.search(r'src="/', attrs) for attrs in scripts)
    assert styles == [f' nonce="{nonce}"']
    assert "swagger-ui-dist" in html and "http" not in " ".join(scripts)
    # The UI's files are ours (drf-spectacular-sidecar's, collected by collectstatic).
    vendored = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert len(vendored) >= 3
    assert all(finders.find(path) for path in vendored)
    assert client.get(reverse("api:docs") + "?script=").status_code == 200
