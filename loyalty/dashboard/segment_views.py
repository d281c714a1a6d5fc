"""Segment pages: the saved segments, the rule builder and its live count (JSON)."""

import json

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views import generic

from loyalty.dashboard.segment_forms import (
    ConditionFormSet,
    SegmentForm,
    segment_rows_from,
    segment_rules_from,
)
from loyalty.models import Segment
from loyalty.segments import MAX_CONDITIONS, SegmentRulesError, rules_validate
from loyalty.selectors import segment_members, segment_sample
from loyalty.services.segments import SegmentInUse, segment_delete, segment_save

# --- Segments ----------------------------------------------------------------------------


class SegmentListView(generic.ListView):
    """Saved segments with their member counts (one query each)."""

    model = Segment
    template_name = "loyalty/dashboard/segment_list.html"
    context_object_name = "segments"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = []
        for segment in context["segments"]:
            try:
                count = segment_members(segment=segment).count()
            except SegmentRulesError:
                count = None
            rows.append((segment, count))
        context["rows"] = rows
        return context


def _segment_forms(data, *, segment: Segment | None = None):
    """The segment form and its condition rows, bound to `data` or filled from `segment`."""
    if data is not None:
        return SegmentForm(data), ConditionFormSet(data, prefix="conditions")
    if segment is None:
        return SegmentForm(), ConditionFormSet(prefix="conditions")
    initial = {
        "name": segment.name,
        "description": segment.description,
        "offers": list(segment.offers.values_list("pk", flat=True)),
    }
    builder = segment_rows_from(segment.rules)
    rows: list[dict] = []
    if builder is None:
        initial["rules_json"] = json.dumps(segment.rules, indent=1)
    else:
        initial.update(builder[0])
        rows = builder[1]
    return SegmentForm(initial=initial), ConditionFormSet(initial=rows, prefix="conditions")


def _rules_or_errors(form, conditions) -> tuple[dict | None, list[str]]:
    if not (form.is_valid() and conditions.is_valid()):
        return None, []
    rules = segment_rules_from(form, conditions)
    try:
        return rules_validate(rules), []
    except SegmentRulesError as exc:
        return None, [str(error) for error in exc.errors]


class SegmentEditView(generic.TemplateView):
    """Create (no pk) or edit a segment; "Add a condition" works without JavaScript."""

    template_name = "loyalty/dashboard/segment_form.html"

    def get_segment(self) -> Segment | None:
        pk = self.kwargs.get("pk")
        return get_object_or_404(Segment, pk=pk) if pk is not None else None

    def render_forms(self, segment, form, conditions, rule_errors=()):
        sample, count = [], None
        if segment is not None and not form.is_bound:
            try:
                members = segment_members(segment=segment)
                count, sample = members.count(), segment_sample(members=members)
            except SegmentRulesError:
                pass
        return self.render_to_response(
            self.get_context_data(
                segment=segment,
                form=form,
                conditions=conditions,
                rule_errors=list(rule_errors),
                count=count,
                sample=sample,
            )
        )

    def get(self, request, *args, **kwargs):
        segment = self.get_segment()
        form, conditions = _segment_forms(None, segment=segment)
        return self.render_forms(segment, form, conditions)

    def post(self, request, *args, **kwargs):
        segment = self.get_segment()
        data = request.POST.copy()
        if "add_condition" in data:
            # One more empty row, the page re-shown as typed (no JavaScript needed).
            total = int(data.get("conditions-TOTAL_FORMS") or 0)
            data["conditions-TOTAL_FORMS"] = str(min(total + 1, MAX_CONDITIONS))
            form, conditions = _segment_forms(data)
            return self.render_forms(segment, form, conditions)
        form, conditions = _segment_forms(data)
        rules, errors = _rules_or_errors(form, conditions)
        if rules is None:
            return self.render_forms(segment, form, conditions, errors)
        segment = segment_save(
            segment=segment,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            rules=rules,
            offers=form.cleaned_data["offers"],
            user=request.user,
        )
        messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
        return redirect("loyalty_dashboard:loyalty-segment-update", pk=segment.pk)


class SegmentCountView(generic.View):
    """GET, JSON: the count and a sample of 10 members for the rules being edited."""

    def get(self, request, *args, **kwargs):
        data = request.GET.copy()
        # Neither the name nor any row is needed to count (no rows: every member).
        data.setdefault("name", "-")
        data.setdefault("conditions-TOTAL_FORMS", "0")
        data.setdefault("conditions-INITIAL_FORMS", "0")
        form, conditions = _segment_forms(data)
        if not (form.is_valid() and conditions.is_valid()):
            errors = [str(e) for e in form.non_field_errors()]
            errors += [f"{name}: {' '.join(e)}" for name, e in form.errors.items()]
            errors += [
                f"{name}: {' '.join(e)}" for row in conditions.errors for name, e in row.items()
            ]
            return JsonResponse({"errors": errors}, status=400)
        rules, errors = _rules_or_errors(form, conditions)
        if rules is None:
            return JsonResponse({"errors": errors}, status=400)
        members = segment_members(rules=rules)
        sample = segment_sample(members=members)
        return JsonResponse(
            {
                "count": members.count(),
                "sample": [
                    {"number": row.number, "name": row.name, "email": row.email} for row in sample
                ],
            }
        )


class SegmentDeleteView(generic.DeleteView):
    success_message = _("Segment deleted.")
    model = Segment
    template_name = "loyalty/dashboard/segment_delete.html"
    success_url = reverse_lazy("loyalty_dashboard:loyalty-segment-list")

    def form_valid(self, form):
        try:
            segment_delete(segment=self.object)
        except SegmentInUse as exc:
            messages.error(self.request, exc.message)
        else:
            messages.success(self.request, self.success_message)
        return redirect(self.success_url)
