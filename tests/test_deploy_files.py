"""The deployment files stay valid: docker-compose.yml parses and has the full stack."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_docker_compose_file_is_valid_and_runs_the_full_stack():
    if shutil.which("docker-compose") is None:
        reason = (
            "needs Debian's docker-compose to validate the file (apt-get install docker-compose)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but this test {reason}")
        pytest.skip(reason)
    env = {**os.environ, "SECRET_KEY": "compose-validation-only"}

    check = subprocess.run(
        ["docker-compose", "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    services = subprocess.run(
        ["docker-compose", "config", "--services"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert check.returncode == 0, check.stderr
    assert sorted(services.stdout.split()) == [
        "beat",
        "db",
        "redis",
        "web",
        "worker",
        "worker-campaigns",
        "worker-marketing",
    ]


def test_docker_compose_refuses_to_start_without_a_secret_key():
    if shutil.which("docker-compose") is None:
        pytest.skip("needs Debian's docker-compose (apt-get install docker-compose)")
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}

    result = subprocess.run(
        ["docker-compose", "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def _compose_config() -> str:
    if shutil.which("docker-compose") is None:
        reason = "needs Debian's docker-compose (apt-get install docker-compose)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but this test {reason}")
        pytest.skip(reason)
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"EMAIL_URL", "SMS_BACKEND", "SMS_GATEWAY_URL"}
    }
    result = subprocess.run(
        ["docker-compose", "config"],
        cwd=ROOT,
        env={**env, "SECRET_KEY": "compose-validation-only"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _compose_variable(config: str, name: str) -> set[str]:
    """The values `name` takes across the compose services (quotes removed)."""
    return {value.strip("'\"") for value in re.findall(rf"^\s+{name}: (.*)$", config, re.M)}


def test_r46_compose_sends_messages_to_a_file_sink_that_production_accepts():
    # Given the environment docker compose gives the app services by default
    config = _compose_config()
    email_url = _compose_variable(config, "EMAIL_URL")
    sms_backend = _compose_variable(config, "SMS_BACKEND")
    sms_file = _compose_variable(config, "SMS_FILE_PATH")
    site_url = _compose_variable(config, "SITE_URL")
    assert site_url == {"http://localhost:8000"}
    assert email_url == {"filemail:////app/sent-messages/email"}
    assert (sms_backend, sms_file) == ({"file"}, {"/app/sent-messages/sms.jsonl"})
    assert "- sent-messages:/app/sent-messages:rw" in config
    assert re.search(r"^  sent-messages: \{\}$", config, re.M)  # a named volume

    # Then the production settings start with it (they refuse console backends)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "k3y-" + "x7Qp9LmZ2vR8tW4n" * 4,
            "ALLOWED_HOSTS": "localhost",
            "DATABASE_URL": "sqlite:////tmp/solomo-compose-check.sqlite3",
            "EMAIL_URL": email_url.pop(),
            "SMS_BACKEND": sms_backend.pop(),
            "SITE_URL": site_url.pop(),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_compose_web_never_creates_demo_accounts():
    config = _compose_config()
    web = config.split("\n  web:\n", 1)[1].split("\n  worker:\n", 1)[0]
    web = re.sub(r"\\\n\s*\\", "", web)  # YAML's folding of a long quoted string
    command = " ".join(re.findall(r"seed_demo[^&\n]*", web))
    assert command.strip() == "seed_demo --allow-production"


def test_every_way_of_serving_puts_the_missing_image_in_media_before_serving():
    # Oscar would create it on the first requests, racing (tests/shop/test_missing_image.py)
    compose = (ROOT / "docker-compose.yml").read_text()
    web = compose.split("\n  web:\n", 1)[1].split("\n  worker:\n", 1)[0]
    makefile = (ROOT / "Makefile").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))

    def steps(text: str, server: str) -> list[str]:
        found = re.findall(rf"missing_image_install|{server}", text)
        return found[: found.index(server) + 1] if server in found else found

    assert steps(web, "gunicorn") == ["missing_image_install", "gunicorn"]
    assert steps(cmd, "gunicorn") == ["missing_image_install", "gunicorn"]
    for target in ("run", "dev"):
        recipe = makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]
        server = "gunicorn" if target == "run" else "runserver"
        assert steps(recipe, server) == ["missing_image_install", server], target
