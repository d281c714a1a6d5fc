"""Checking rules without touching the database: `rules_validate` returns them normalised
(numbers parsed, lists sorted) or raises SegmentRulesError listing every bad condition."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from loyalty.models import Tier

from .language import (
    CHANNELS,
    CONDITION_TYPES,
    MAX_CONDITIONS,
    MAX_DEPTH,
    OP_LABELS,
    SegmentRulesError,
)


def _as_list(raw: Any) -> list:
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(raw, (list, tuple)):
        return list(raw)
    if raw is None:
        return []
    return [raw]


def _int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw.strip())
    raise ValueError


def _whole(raw: Any) -> int:
    try:
        number = _int(raw)
    except ValueError:
        raise ValueError(_("enter a whole number of 0 or more.")) from None
    if number < 0:
        raise ValueError(_("enter a whole number of 0 or more."))
    return number


def _amount(raw: Any) -> str:
    try:
        amount = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(_("enter an amount of 0 or more, such as 25.50.")) from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(_("enter an amount of 0 or more, such as 25.50."))
    return str(amount)


def _int_or_zero(raw: Any) -> int:
    try:
        return _int(raw)
    except ValueError:
        return 0


def _score(raw: Any) -> int:
    score = _int_or_zero(raw)
    if not 1 <= score <= 5:
        raise ValueError(_("enter a score from 1 to 5."))
    return score


def _category(raw: Any) -> int:
    pk = _int_or_zero(raw)
    if pk <= 0:
        raise ValueError(_("choose a category."))
    return pk


def _product(raw: Any) -> int:
    pk = _int_or_zero(raw)
    if pk <= 0:
        raise ValueError(_("enter a product id."))
    return pk


def _channel(raw: Any) -> str:
    if raw not in CHANNELS:
        raise ValueError(_("choose a channel: email, sms or push."))
    return raw


def _items(raw: Any) -> list:
    items = _as_list(raw)
    if not items:
        raise ValueError(_("enter at least one value."))
    return items


def _numbers(raw: Any) -> list[int]:
    items = _items(raw)
    try:
        return sorted({_int(item) for item in items})
    except ValueError:
        return []


def _tiers(raw: Any) -> list[str]:
    items = _items(raw)
    bad = [str(item) for item in items if item not in Tier.values]
    if bad:
        raise ValueError(_("unknown tier %(tiers)s (bronze, silver, gold).") % {"tiers": bad})
    return sorted(set(items))


def _languages(raw: Any) -> list[str]:
    items = _items(raw)
    known = [code for code, _name in settings.LANGUAGES]
    bad = [str(item) for item in items if item not in known]
    if bad:
        raise ValueError(
            _("unknown language %(bad)s (%(known)s).")
            % {"bad": ", ".join(bad), "known": ", ".join(known)}
        )
    return sorted(set(items))


def _months(raw: Any) -> list[int]:
    numbers = _numbers(raw)
    if not numbers or not all(1 <= month <= 12 for month in numbers):
        raise ValueError(_("enter months as numbers from 1 to 12."))
    return numbers


def _stores(raw: Any) -> list[int]:
    numbers = _numbers(raw)
    if not numbers or not all(pk > 0 for pk in numbers):
        raise ValueError(_("choose a store."))
    return numbers


# How each kind of value (ConditionType.value) is read.
_VALUE_PARSERS: dict[str, Callable[[Any], Any]] = {
    "int": _whole,
    "decimal": _amount,
    "score": _score,
    "category": _category,
    "product": _product,
    "channel": _channel,
    "tiers": _tiers,
    "languages": _languages,
    "months": _months,
    "stores": _stores,
}


def _value(kind: str, raw: Any) -> Any:
    """The value parsed for `kind`, or ValueError with the message to show."""
    parser = _VALUE_PARSERS.get(kind)
    if parser is None:
        raise ValueError(_("unknown value kind."))
    return parser(raw)


def _condition_validate(raw: Any, where: str, errors: list[str]) -> dict | None:
    if not isinstance(raw, dict):
        errors.append(_("Condition %(where)s: not a condition.") % {"where": where})
        return None
    code = raw.get("type")
    kind = CONDITION_TYPES.get(code) if isinstance(code, str) else None
    if kind is None:
        errors.append(
            _("Condition %(where)s: unknown type %(type)r.")
            % {"where": where, "type": raw.get("type")}
        )
        return None
    prefix = _("Condition %(where)s (%(label)s)") % {"where": where, "label": kind.label}
    clean: dict[str, Any] = {"type": kind.code}
    op = raw.get("op") or kind.ops[0]
    if op not in kind.ops:
        errors.append(
            _("%(prefix)s: choose one of %(ops)s.")
            % {"prefix": prefix, "ops": ", ".join(str(OP_LABELS[o]) for o in kind.ops)}
        )
    clean["op"] = op
    try:
        clean["value"] = _value(kind.value, raw.get("value"))
    except ValueError as exc:
        errors.append(f"{prefix}: {exc.args[0]}")
    days = raw.get("days")
    if kind.days != "no" and days not in (None, ""):
        try:
            clean["days"] = _int(days)
            if clean["days"] < 1:
                raise ValueError
        except ValueError:
            errors.append(
                _("%(prefix)s: enter a number of days of 1 or more.") % {"prefix": prefix}
            )
    elif kind.days == "required":
        errors.append(_("%(prefix)s: enter a number of days.") % {"prefix": prefix})
    if kind.store:
        try:
            clean["store"] = _int(raw.get("store"))
            if clean["store"] < 1:
                raise ValueError
        except ValueError:
            errors.append(_("%(prefix)s: choose the store to measure from.") % {"prefix": prefix})
    return clean


def _group_validate(raw: Any, where: str, depth: int, errors: list[str]) -> dict:
    label = where or _("the segment")
    if not isinstance(raw, dict) or not isinstance(raw.get("conditions", []), list):
        errors.append(_("Group %(where)s: not a group of conditions.") % {"where": label})
        return {"match": "all", "conditions": []}
    match = raw.get("match", "all")
    if match not in ("all", "any"):
        errors.append(_("Group %(where)s: match must be all or any.") % {"where": label})
    if depth > MAX_DEPTH:
        errors.append(
            _("Group %(where)s: groups nest at most %(max)s deep.")
            % {"where": label, "max": MAX_DEPTH}
        )
        return {"match": match, "conditions": []}
    conditions = raw.get("conditions", [])
    if not conditions and depth > 0:
        errors.append(_("Group %(where)s: add at least one condition.") % {"where": label})
    clean = []
    for index, child in enumerate(conditions, start=1):
        child_where = f"{where}.{index}" if where else str(index)
        if isinstance(child, dict) and "conditions" in child:
            clean.append(_group_validate(child, child_where, depth + 1, errors))
        else:
            condition = _condition_validate(child, child_where, errors)
            if condition is not None:
                clean.append(condition)
    return {"match": match, "conditions": clean}


def _count_conditions(group: dict) -> int:
    return sum(
        _count_conditions(child) if "conditions" in child else 1 for child in group["conditions"]
    )


def rules_validate(rules: Any) -> dict:
    """The rules normalised, or SegmentRulesError listing every bad condition by position
    ("2.1": the first condition of the second entry). Reads no database row."""
    errors: list[str] = []
    clean = _group_validate(rules if rules is not None else {}, "", 0, errors)
    if not errors and _count_conditions(clean) > MAX_CONDITIONS:
        errors.append(_("Use at most %(max)s conditions.") % {"max": MAX_CONDITIONS})
    if errors:
        raise SegmentRulesError(errors)
    return clean
