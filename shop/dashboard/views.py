"""Oscar's dashboard index; store staff start on their store's pickup queue instead.

Oscar's index shows partner users order statistics and links to Oscar's order pages,
which are not theirs (README, "Roles and permissions").
"""

from django.shortcuts import redirect
from oscar.apps.dashboard import views as oscar_views


class IndexView(oscar_views.IndexView):
    def dispatch(self, request, *args, **kwargs):
        # Reached only with the index's permission: staff, or partner users (store staff).
        if not request.user.is_staff:
            return redirect("stores-dashboard:queue")
        return super().dispatch(request, *args, **kwargs)
