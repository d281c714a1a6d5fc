"""The segment rule builder: groups of condition rows that work without JavaScript."""

import json
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from loyalty.segments import CONDITION_TYPES, MAX_CONDITIONS, OP_LABELS


def _segment_offer_choices():
    from oscar.core.loading import get_model

    offer_model = get_model("offer", "ConditionalOffer")
    # USER offers: Oscar gives them only through Applicator.get_user_offers, where the
    # segment's members get them; tier offers belong to their tiers.
    return offer_model.objects.filter(
        offer_type=offer_model.USER, loyalty_tier__isnull=True
    ).order_by("name")


MATCH_CHOICES = [("all", _("all of")), ("any", _("any of"))]


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    match = forms.ChoiceField(
        label=_("Members matching"),
        choices=MATCH_CHOICES,
        initial="all",
        required=False,
        help_text=_("How the groups combine."),
    )
    group_match = forms.ChoiceField(
        label=_("Inside each group, members matching"),
        choices=MATCH_CHOICES,
        initial="all",
        required=False,
        help_text=_("How the conditions of one group combine."),
    )
    offers: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label=_("One-to-one offers"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_(
            "User offers (Offers dashboard, type “User offers”) that only this segment's "
            "members get in their basket and at checkout."
        ),
    )
    rules_json = forms.CharField(
        label=_("Rules as JSON (advanced)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=_(
            "Nested groups beyond two levels: when filled in, this replaces the conditions above."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        offers = cast(forms.ModelMultipleChoiceField, self.fields["offers"])
        offers.queryset = _segment_offer_choices()

    def clean_rules_json(self):
        raw = self.cleaned_data["rules_json"].strip()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError(
                _("This is not valid JSON: %(error)s") % {"error": exc}
            ) from None


class ConditionForm(forms.Form):
    group = forms.IntegerField(
        label=_("Group"), min_value=1, max_value=20, initial=1, required=False
    )
    type = forms.ChoiceField(label=_("Condition"), required=False)
    op = forms.ChoiceField(label=_("Operator"), choices=list(OP_LABELS.items()), required=False)
    value = forms.CharField(
        label=_("Value"),
        required=False,
        max_length=200,
        help_text=_("Several values: separate them with commas."),
    )
    days = forms.IntegerField(label=_("Days"), required=False, min_value=1)
    store: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Store"), queryset=None, required=False
    )
    category: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Category"), queryset=None, required=False
    )

    def __init__(self, *args, **kwargs):
        from django.apps import apps

        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["type"]).choices = [("", "---------")] + [
            (code, kind.label) for code, kind in CONDITION_TYPES.items()
        ]
        stores_model = apps.get_model("stores", "Store")
        categories_model = apps.get_model("catalogue", "Category")
        cast(forms.ModelChoiceField, self.fields["store"]).queryset = stores_model.objects.order_by(
            "name"
        )
        cast(
            forms.ModelChoiceField, self.fields["category"]
        ).queryset = categories_model.objects.order_by("path")

    def condition(self) -> dict | None:
        """The condition this row stands for (rules language), or None for an empty row."""
        data = getattr(self, "cleaned_data", {})
        kind = data.get("type")
        if not kind or data.get("DELETE"):
            return None
        value: object = data.get("value", "")
        store, category = data.get("store"), data.get("category")
        condition: dict = {"type": kind, "op": data.get("op") or "", "value": value}
        if kind in ("home_store", "last_pickup_store") and store is not None:
            condition["value"] = [store.pk, *(v for v in str(value).split(",") if v.strip())]
        elif kind == "bought_category" and category is not None:
            condition["value"] = category.pk
        if kind in ("home_store_distance", "pickup_store_distance"):
            condition["store"] = store.pk if store is not None else None
        if data.get("days"):
            condition["days"] = data["days"]
        return condition


ConditionFormSet = forms.formset_factory(
    ConditionForm, extra=1, can_delete=True, max_num=MAX_CONDITIONS, validate_max=True
)


def segment_rules_from(form: SegmentForm, conditions) -> dict:
    """The rules tree the builder describes: groups of rows, or the advanced JSON."""
    if form.cleaned_data.get("rules_json") is not None:
        return form.cleaned_data["rules_json"]
    groups: dict[int, list[dict]] = {}
    for row in conditions:
        condition = row.condition()
        if condition is not None:
            groups.setdefault(row.cleaned_data.get("group") or 1, []).append(condition)
    inner = form.cleaned_data.get("group_match") or "all"
    if len(groups) <= 1:
        return {"match": inner, "conditions": next(iter(groups.values()), [])}
    return {
        "match": form.cleaned_data.get("match") or "all",
        "conditions": [{"match": inner, "conditions": groups[number]} for number in sorted(groups)],
    }


def segment_rows_from(rules: dict) -> tuple[dict, list[dict]] | None:
    """Builder initial data (match, group_match; rows) for rules of at most two levels of
    the same shape, else None (the advanced JSON shows them)."""
    children = rules.get("conditions", [])

    def row(condition: dict, group: int) -> dict:
        initial = {"group": group, "type": condition["type"], "op": condition.get("op")}
        value = condition.get("value")
        if condition["type"] == "bought_category":
            initial["category"] = value
        elif isinstance(value, list):
            initial["value"] = ", ".join(str(v) for v in value)
        else:
            initial["value"] = "" if value is None else str(value)
        if condition.get("store"):
            initial["store"] = condition["store"]
        if condition.get("days"):
            initial["days"] = condition["days"]
        return initial

    if all("conditions" not in child for child in children):
        match = rules.get("match", "all")
        return {"match": "all", "group_match": match}, [row(c, 1) for c in children]
    if all("conditions" in child for child in children):
        inner = {child.get("match", "all") for child in children}
        nested = any("conditions" in c for child in children for c in child["conditions"])
        if len(inner) == 1 and not nested:
            rows = [
                row(condition, number)
                for number, child in enumerate(children, start=1)
                for condition in child["conditions"]
            ]
            return {"match": rules.get("match", "all"), "group_match": inner.pop()}, rows
    return None
