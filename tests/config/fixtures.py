"""Running manage.py in a clean environment, for the tests of start-up configuration."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py in a clean environment (no inherited DATABASE_URL etc.)."""
    base = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(ROOT)),
        "DATABASE_URL": f"sqlite:///{tempfile.gettempdir()}/solomo-settings-test.sqlite3",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
