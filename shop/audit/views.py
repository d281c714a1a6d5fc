"""The audit page at /dashboard/audit/: superusers only (wrapped in urls.py)."""

from datetime import datetime, time, timedelta

from django.core.paginator import Paginator
from django.db.models import Q
from django.utils import timezone
from django.views import generic

from loyalty.models import PointsAdjustment
from shop.audit.forms import AuditFilterForm
from shop.audit.models import AuditEvent

PER_PAGE = 50


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class AuditLogView(generic.TemplateView):
    """Staff requests (AuditEvent) or points adjustments with their decisions (loyalty's
    own append-only records), newest first, filtered."""

    template_name = "audit/log.html"

    def get_context_data(self, **kwargs):
        form = AuditFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        show = filters.get("show") or AuditFilterForm.REQUESTS
        if show == AuditFilterForm.ADJUSTMENTS:
            rows = self._adjustments(filters)
        else:
            rows = self._events(filters)
        page = Paginator(rows, PER_PAGE).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            form=form, show=show, page=page, query=query.urlencode(), **kwargs
        )

    @staticmethod
    def _dated(rows, field: str, filters: dict):
        if filters.get("date_from"):
            rows = rows.filter(**{f"{field}__gte": _start_of(filters["date_from"])})
        if filters.get("date_to"):
            end = _start_of(filters["date_to"] + timedelta(days=1))
            rows = rows.filter(**{f"{field}__lt": end})
        return rows

    def _events(self, filters: dict):
        rows = AuditEvent.objects.select_related("actor")
        if filters.get("actor"):
            rows = rows.filter(actor__email__icontains=filters["actor"])
        if filters.get("path"):
            rows = rows.filter(
                Q(path__icontains=filters["path"]) | Q(view_name__icontains=filters["path"])
            )
        if filters.get("method"):
            rows = rows.filter(method=filters["method"])
        if filters.get("status"):
            rows = rows.filter(status_code=filters["status"])
        return self._dated(rows, "created_at", filters)

    def _adjustments(self, filters: dict):
        rows = PointsAdjustment.objects.select_related(
            "member", "requested_by", "partner", "decision__decided_by"
        )
        if filters.get("actor"):
            rows = rows.filter(
                Q(requested_by__email__icontains=filters["actor"])
                | Q(decision__decided_by__email__icontains=filters["actor"])
            )
        if filters.get("member"):
            rows = rows.filter(member__number=filters["member"].replace(" ", ""))
        return self._dated(rows, "created_at", filters)
