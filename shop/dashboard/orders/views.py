"""Oscar's order page, with changes for those allowed to change orders only, each in one
transaction, and a clear error instead of a 500 when a line action is posted without a
quantity."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from oscar.apps.dashboard.orders import views as oscar_views
from oscar.core.loading import get_model

from shop.constants import CANCELLED
from shop.orders.cancellation import order_cancel_refund_send

Order = get_model("order", "Order")


class OrderDetailView(oscar_views.OrderDetailView):
    def post(self, request, *args, **kwargs):
        # Oscar checks only `order.view_order` for this URL; its POST changes the order.
        if not request.user.has_perm("order.change_order"):
            raise PermissionDenied
        # One transaction: a status change and what its receivers do (a cancellation's
        # releases and reserved refund, shop.orders.cancellation.order_cancel) are written
        # together or not at all.
        with transaction.atomic():
            response = super().post(request, *args, **kwargs)
        # Then, with no row locked, a cancelled paid order's refund is sent, if the commit
        # did not send it already (an outer transaction still open).
        order = Order.objects.filter(number=kwargs.get("number"), status=CANCELLED).first()
        if order is not None:
            order_cancel_refund_send(order)
        return response

    def handle_line_action(self, request, order, action):
        # Oscar's int(None) raises TypeError when a selected line has no quantity field.
        for line_id in request.POST.getlist("selected_line"):
            if not request.POST.get(f"selected_line_qty_{line_id}", "").strip():
                return self.reload_page(error=_("Enter a quantity for each selected line."))
        return super().handle_line_action(request, order, action)
