"""The marketers' view of recommendations (README.md "Recommendations"): why each product
was recommended to a member, the products bought together most often, the last run."""

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views import generic

from loyalty.models import Member
from loyalty.recommendations import member_recommendations_explained, pairs_strongest, run_latest


class RecommendationsView(generic.TemplateView):
    """GET only: a member's recommendations with their reasons (member number or email).
    Marketers (loyalty.view_memberrecommendation); writes nothing."""

    template_name = "loyalty/dashboard/recommendations.html"

    def get_context_data(self, **kwargs):
        wanted = (self.request.GET.get("member") or "").strip()
        member, explained = None, []
        error: str | Promise = ""
        if wanted:
            member = (
                Member.objects.select_related("user")
                .filter(Q(number=wanted) | Q(user__email__iexact=wanted))
                .first()
            )
            if member is None:
                error = _("No member found: enter a member number or email address.")
            else:
                explained = member_recommendations_explained(member=member)
        return super().get_context_data(
            wanted=wanted,
            member=member,
            explained=explained,
            error=error,
            pairs=list(pairs_strongest()),
            run=run_latest(),
            **kwargs,
        )
