from django.urls import path
from django.utils.translation import gettext_lazy as _
from oscar.core.application import OscarDashboardConfig


class LoyaltyDashboardConfig(OscarDashboardConfig):
    """An Oscar dashboard app, so Oscar's menu and permission checks apply to its pages."""

    label = "loyalty_dashboard"
    name = "loyalty.dashboard"
    namespace = "loyalty_dashboard"
    verbose_name = _("Loyalty dashboard")

    default_permissions = ["is_staff"]
    permissions_map = {
        "loyalty-rules": ["loyalty.change_earningrule"],
        "loyalty-multiplier-list": ["loyalty.view_multiplier"],
        "loyalty-multiplier-create": ["loyalty.add_multiplier"],
        "loyalty-multiplier-update": ["loyalty.change_multiplier"],
        "loyalty-multiplier-delete": ["loyalty.delete_multiplier"],
        "loyalty-tier-list": ["loyalty.view_tierlevel"],
        "loyalty-tier-update": ["loyalty.change_tierlevel"],
        # The member counter: support and store staff (roles in the README), not marketers.
        "loyalty-counter": ["loyalty.view_member"],
        "loyalty-counter-adjust": ["loyalty.view_member", "loyalty.adjust_points"],
        "loyalty-counter-limits": ["loyalty.change_earningrule"],
        "loyalty-adjustment-list": ["loyalty.approve_points_adjustment"],
        "loyalty-adjustment-decide": ["loyalty.approve_points_adjustment"],
        "loyalty-segment-list": ["is_staff", "loyalty.view_segment"],
        "loyalty-segment-count": ["is_staff", "loyalty.view_segment"],
        "loyalty-segment-create": ["is_staff", "loyalty.add_segment"],
        "loyalty-segment-update": ["is_staff", "loyalty.change_segment"],
        "loyalty-segment-delete": ["is_staff", "loyalty.delete_segment"],
        "loyalty-reward-list": ["is_staff", "loyalty.view_reward"],
        "loyalty-reward-create": ["is_staff", "loyalty.add_reward"],
        "loyalty-reward-update": ["is_staff", "loyalty.change_reward"],
        "loyalty-reward-status": ["is_staff", "loyalty.change_reward"],
        # Campaigns: marketers (README "Roles and permissions").
        "loyalty-campaign-list": ["is_staff", "loyalty.view_campaign"],
        "loyalty-campaign-detail": ["is_staff", "loyalty.view_campaign"],
        "loyalty-campaign-preview": ["is_staff", "loyalty.view_campaign"],
        "loyalty-campaign-create": ["is_staff", "loyalty.add_campaign"],
        "loyalty-campaign-update": ["is_staff", "loyalty.change_campaign"],
        "loyalty-campaign-test-send": ["is_staff", "loyalty.change_campaign"],
        "loyalty-campaign-status": ["is_staff", "loyalty.change_campaign"],
        # Marketers (README "Cost simulator"): they hold both the rules and the rewards.
        "loyalty-cost-simulator": ["is_staff", "loyalty.change_earningrule", "loyalty.view_reward"],
        "loyalty-campaign-attribution": ["is_staff", "loyalty.view_campaign"],
        "loyalty-campaign-attribution-csv": ["is_staff", "loyalty.view_campaign"],
        # Why a product was recommended (README "Recommendations"): marketers.
        "loyalty-recommendations": ["is_staff", "loyalty.view_memberrecommendation"],
    }

    def get_urls(self):
        from loyalty.dashboard import simulator_views, views
        from loyalty.dashboard.recommendation_views import RecommendationsView

        urls = [
            path("rules/", views.EarningRuleUpdateView.as_view(), name="loyalty-rules"),
            path(
                "multipliers/",
                views.MultiplierListView.as_view(),
                name="loyalty-multiplier-list",
            ),
            path(
                "multipliers/new/",
                views.MultiplierCreateView.as_view(),
                name="loyalty-multiplier-create",
            ),
            path(
                "multipliers/<int:pk>/",
                views.MultiplierUpdateView.as_view(),
                name="loyalty-multiplier-update",
            ),
            path(
                "multipliers/<int:pk>/delete/",
                views.MultiplierDeleteView.as_view(),
                name="loyalty-multiplier-delete",
            ),
            path("tiers/", views.TierListView.as_view(), name="loyalty-tier-list"),
            path("tiers/<int:pk>/", views.TierUpdateView.as_view(), name="loyalty-tier-update"),
            path("counter/", views.CounterView.as_view(), name="loyalty-counter"),
            path(
                "counter/adjust/",
                views.CounterAdjustView.as_view(),
                name="loyalty-counter-adjust",
            ),
            path(
                "counter/limits/",
                views.CounterLimitsView.as_view(),
                name="loyalty-counter-limits",
            ),
            path(
                "adjustments/",
                views.AdjustmentListView.as_view(),
                name="loyalty-adjustment-list",
            ),
            path(
                "adjustments/<int:pk>/decide/",
                views.AdjustmentDecideView.as_view(),
                name="loyalty-adjustment-decide",
            ),
            path(
                "simulator/",
                simulator_views.CostSimulatorView.as_view(),
                name="loyalty-cost-simulator",
            ),
            *self.segment_urls(),
            *self.reward_urls(),
            *self.campaign_urls(),
            path(
                "recommendations/",
                RecommendationsView.as_view(),
                name="loyalty-recommendations",
            ),
        ]
        return self.post_process_urls(urls)

    def segment_urls(self):
        from loyalty.dashboard import segment_views as views

        return [
            path("segments/", views.SegmentListView.as_view(), name="loyalty-segment-list"),
            path("segments/new/", views.SegmentEditView.as_view(), name="loyalty-segment-create"),
            path("segments/count/", views.SegmentCountView.as_view(), name="loyalty-segment-count"),
            path(
                "segments/<int:pk>/",
                views.SegmentEditView.as_view(),
                name="loyalty-segment-update",
            ),
            path(
                "segments/<int:pk>/delete/",
                views.SegmentDeleteView.as_view(),
                name="loyalty-segment-delete",
            ),
        ]

    def reward_urls(self):
        from loyalty.dashboard import reward_views as views

        return [
            path("rewards/", views.RewardListView.as_view(), name="loyalty-reward-list"),
            path("rewards/new/", views.RewardEditView.as_view(), name="loyalty-reward-create"),
            path("rewards/<int:pk>/", views.RewardEditView.as_view(), name="loyalty-reward-update"),
            path(
                "rewards/<int:pk>/status/",
                views.RewardStatusView.as_view(),
                name="loyalty-reward-status",
            ),
        ]

    def campaign_urls(self):
        from loyalty.dashboard import campaign_views as views

        return [
            path("campaigns/", views.CampaignListView.as_view(), name="loyalty-campaign-list"),
            path(
                "campaigns/new/", views.CampaignEditView.as_view(), name="loyalty-campaign-create"
            ),
            path(
                "campaigns/<int:pk>/",
                views.CampaignDetailView.as_view(),
                name="loyalty-campaign-detail",
            ),
            path(
                "campaigns/<int:pk>/edit/",
                views.CampaignEditView.as_view(),
                name="loyalty-campaign-update",
            ),
            path(
                "campaigns/<int:pk>/preview/",
                views.CampaignPreviewView.as_view(),
                name="loyalty-campaign-preview",
            ),
            path(
                "campaigns/<int:pk>/test/",
                views.CampaignTestSendView.as_view(),
                name="loyalty-campaign-test-send",
            ),
            path(
                "campaigns/<int:pk>/status/",
                views.CampaignStatusView.as_view(),
                name="loyalty-campaign-status",
            ),
            path(
                "campaigns/<int:pk>/attribution/",
                views.CampaignAttributionView.as_view(),
                name="loyalty-campaign-attribution",
            ),
            path(
                "campaigns/<int:pk>/attribution.csv",
                views.CampaignAttributionCsvView.as_view(),
                name="loyalty-campaign-attribution-csv",
            ),
        ]
