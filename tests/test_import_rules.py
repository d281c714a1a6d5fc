"""Who may import whom (docs/architecture.md, "Who may import whom"), read from the source.

Every import statement of every module is parsed (`ast`), including those inside
functions, so a late import breaks a rule as surely as one at the top of a file.
"""

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@cache
def imports(package: str) -> dict[str, set[str]]:
    """Each module of `package` (path) with the top-level-qualified names it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def importers(prefix: str, packages=("shop", "loyalty", "stores", "config")) -> list[str]:
    """Modules of `packages` importing `prefix` or anything under it."""
    return sorted(
        module
        for package in packages
        for module, names in imports(package).items()
        if any(name == prefix or name.startswith(prefix + ".") for name in names)
    )


def test_the_parser_sees_the_imports_it_is_meant_to_see():
    assert "stores.selectors" in imports("loyalty")["loyalty/services/campaigns/sending.py"]
    assert "loyalty.services.redemption" in imports("shop")["shop/checkout/views.py"]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("loyalty", "shop"), ("stores", "shop"), ("stores", "loyalty")],
)
def test_an_extension_app_never_imports_what_it_must_not(package, forbidden):
    assert importers(forbidden, packages=(package,)) == []


def test_loyalty_reads_stores_only_through_its_selectors_and_signals():
    used = {
        name
        for names in imports("loyalty").values()
        for name in names
        if name == "stores" or name.startswith("stores.")
    }
    assert used <= {"stores.selectors", "stores.signals"}


def test_only_the_gateway_imports_stripe():
    assert importers("stripe") == ["shop/payment/gateway.py"]


@pytest.mark.parametrize(
    ("library", "modules"),
    [
        # The channels send; smtp.py is the e-mail backend that marks the hand-over
        # before DATA (docs/guarantees.md#r26).
        ("smtplib", ["shop/communication/channels.py", "shop/communication/smtp.py"]),
        ("requests", ["shop/communication/channels.py"]),
    ],
)
def test_only_the_channels_module_talks_to_message_providers(library, modules):
    assert importers(library) == modules


def test_test_helpers_live_in_fixtures_modules_not_in_test_modules():
    # A helper shared by several test modules goes in a factories or fixtures module;
    # importing a test_*.py module would also collect its tests a second time.
    assert (
        sorted(
            f"{module} imports {name}"
            for module, names in imports("tests").items()
            for name in names
            if name.startswith("tests.") and name.rpartition(".")[2].startswith("test_")
        )
        == []
    )
