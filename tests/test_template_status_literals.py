"""Templates never compare a status with a string literal (docs/architecture.md,
"Constants"): they ask the model (`pickup.is_ready`, `campaign.can_pause`,
`payment.is_canceled`) or take the values from the TextChoices and constants through
the context or a template tag (`{% order_statuses as statuses %}`), so a status is
spelled in one place only."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("shop", "loyalty", "stores")
# `status == "ready"`, `order.status != 'Pending'`, `"ready" == pickup.status`, ...
STATUS_LITERAL = re.compile(
    r"""\w*status\w*\s*(?:==|!=)\s*["']|["']\s*(?:==|!=)\s*[\w.]*status""", re.IGNORECASE
)


def templates() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.suffix in (".html", ".txt") and "templates" in path.relative_to(ROOT).parts
    )


def status_literals() -> list[str]:
    """'path:line: text' of each template line comparing a status with a literal."""
    found = []
    for path in templates():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if STATUS_LITERAL.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_no_template_compares_a_status_with_a_literal():
    assert status_literals() == []


def test_the_scan_reads_the_templates_of_the_three_apps():
    scanned = {path.relative_to(ROOT).parts[0] for path in templates()}
    assert scanned == set(PACKAGES)
    assert ROOT / "stores/templates/stores/dashboard/detail.html" in templates()


@pytest.mark.parametrize(
    "line",
    [
        '{% if pickup.status == "new" %}',
        "{% if order.status != 'Pending' %}",
        '{% if campaign.status=="draft" or x %}',
        '{% if "ready" == pickup.status %}',
        '{% if payment.status == "canceled" %}',
        '{% if line.line_status != "Cancelled" %}',
    ],
)
def test_the_scan_catches_a_status_literal(line):
    assert STATUS_LITERAL.search(line)


@pytest.mark.parametrize(
    "line",
    [
        "{% if pickup.is_ready %}",
        "{% if order.status == statuses.AWAITING_PAYMENT %}",
        '{% if status == value %}<a href="?status={{ value }}">',
        '<a href="?status=ready">',
    ],
)
def test_the_scan_leaves_comparisons_with_names_alone(line):
    assert not STATUS_LITERAL.search(line)
