"""Oscar's dashboard index; store staff start on their store's pickup queue instead.

Oscar's index shows partner users order statistics and links to Oscar's order pages,
which are not theirs (README, "Roles and permissions").

README, "Performance": Oscar's `get_stats` runs a query per figure, 12 of them for the
24-hour chart (one SUM per two hours). The staff
index computes the same figures with a few aggregates per table (twelve queries whatever
the data; the last day's over the last day's rows only), so each figure still says what
Oscar's says.
"""

from datetime import timedelta
from decimal import ROUND_UP
from decimal import Decimal as D

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, Q, Sum
from django.shortcuts import redirect
from django.utils.timezone import now
from oscar.apps.dashboard import views as oscar_views

CHART_HOURS = 24
CHART_STEP_HOURS = 2
CHART_SEGMENTS = 10


def hourly_report(totals: list[tuple]) -> dict:
    """Oscar's `get_hourly_report` context from (end_time, total) pairs: the bars' heights
    in percent of a rounded maximum and the y axis labels."""
    order_total_hourly = [{"end_time": end, "total_incl_tax": total} for end, total in totals]
    max_value = max(total for _end, total in totals)
    divisor = 1
    while divisor < max_value / 50:
        divisor *= 10
    max_value = (max_value / divisor).quantize(D("1"), rounding=ROUND_UP) * divisor
    y_range = []
    if max_value:
        segment_size = max_value / D("100.0")
        for item in order_total_hourly:
            item["percentage"] = int(item["total_incl_tax"] / segment_size)
        step = max_value / D(str(CHART_SEGMENTS))
        y_range = [idx * step for idx in reversed(range(CHART_SEGMENTS + 1))]
    else:
        for item in order_total_hourly:
            item["percentage"] = 0
    return {"order_total_hourly": order_total_hourly, "max_revenue": max_value, "y_range": y_range}


def staff_index_stats() -> dict:
    """Everything Oscar's index shows staff, one aggregate query per table."""
    at = now()
    since = at - timedelta(hours=24)
    last_day = Q(date_placed__gt=since)
    # Oscar's chart: 2-hour buckets ending at the next full hour.
    start = at.replace(minute=0, second=0) - timedelta(hours=CHART_HOURS - 1)
    buckets = [
        (
            start + timedelta(hours=h),
            start + timedelta(hours=h + CHART_STEP_HOURS),
        )
        for h in range(0, CHART_HOURS, CHART_STEP_HOURS)
    ]
    hourly = {
        f"h{i}": Sum("total_incl_tax", filter=Q(date_placed__gte=a, date_placed__lt=b))
        for i, (a, b) in enumerate(buckets)
    }
    # Totals over every row; the last day's figures and the chart over the last day's orders
    # only, an index range on date_placed: a conditional aggregate over all orders and
    # lines evaluated every filter on every row (bench/README.md, "pages_at_size.py").
    order_model, line_model = oscar_views.Order, oscar_views.Line
    by_status = list(
        order_model.objects.order_by("status")
        .values("status")
        .annotate(freq=Count("id"), revenue=Sum("total_incl_tax"))
    )
    orders = {
        "total": sum(row["freq"] for row in by_status),
        "revenue": sum((row["revenue"] for row in by_status if row["revenue"]), D("0.00")),
    }
    orders |= order_model.objects.filter(date_placed__gte=min(start, since)).aggregate(
        day_total=Count("pk", filter=last_day),
        day_revenue=Sum("total_incl_tax", filter=last_day),
        day_average=Avg("total_incl_tax", filter=last_day),
        **hourly,
    )
    lines = {
        "total": line_model.objects.count(),
        "day_total": line_model.objects.filter(order__date_placed__gt=since).count(),
    }
    buyers = get_user_model().objects.filter(orders__isnull=False)
    customers = {
        "total": order_model.objects.exclude(user=None).values("user_id").distinct().count(),
        "new": buyers.filter(date_joined__gt=since).values("pk").distinct().count(),
    }
    basket_model = oscar_views.Basket
    baskets = basket_model.objects.filter(status=basket_model.OPEN).aggregate(
        total=Count("pk"), day_total=Count("pk", filter=Q(date_created__gt=since))
    )
    alert_model = oscar_views.StockAlert
    alerts = alert_model.objects.aggregate(
        open=Count("pk", filter=Q(status=alert_model.OPEN)),
        closed=Count("pk", filter=Q(status=alert_model.CLOSED)),
    )
    zero = D("0.00")
    return {
        "total_orders_last_day": orders["day_total"],
        "total_lines_last_day": lines["day_total"],
        "average_order_costs": orders["day_average"] or zero,
        "total_revenue_last_day": orders["day_revenue"] or zero,
        "hourly_report_dict": hourly_report(
            [(b, orders[f"h{i}"] or D("0.0")) for i, (_a, b) in enumerate(buckets)]
        ),
        "total_customers_last_day": customers["new"],
        "total_open_baskets_last_day": baskets["day_total"],
        "total_products": oscar_views.Product.objects.count(),
        "total_open_stock_alerts": alerts["open"],
        "total_closed_stock_alerts": alerts["closed"],
        "total_customers": customers["total"],
        "total_open_baskets": baskets["total"],
        "total_orders": orders["total"],
        "total_lines": lines["total"],
        "total_revenue": orders["revenue"] or zero,
        "order_status_breakdown": [{"status": r["status"], "freq": r["freq"]} for r in by_status],
        "offer_maps": list(
            oscar_views.ConditionalOffer.objects.filter(end_datetime__gt=at)
            .values("offer_type")
            .annotate(count=Count("id"))
            .order_by("offer_type")
        ),
        "total_vouchers": oscar_views.Voucher.objects.filter(end_datetime__gt=at).count(),
    }


class IndexView(oscar_views.IndexView):
    def dispatch(self, request, *args, **kwargs):
        # Reached only with the index's permission: staff, or partner users (store staff).
        if not request.user.is_staff:
            return redirect("stores-dashboard:queue")
        return super().dispatch(request, *args, **kwargs)

    def get_stats(self):
        return staff_index_stats()
