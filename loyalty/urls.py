from django.urls import path

from loyalty import gift_link_views, views

app_name = "loyalty"

urlpatterns = [
    path("", views.MemberView.as_view(), name="member"),
    path("join/", views.JoinView.as_view(), name="join"),
    path("rewards/<int:pk>/redeem/", views.RedeemView.as_view(), name="redeem"),
    path("gift/", views.GiftView.as_view(), name="gift"),
    path("gift/send/", views.GiftSendView.as_view(), name="gift-send"),
    path("gift/link/", gift_link_views.GiftLinkCreateView.as_view(), name="gift-link-create"),
    # Gift links (R23): short, as they are shared in messages.
    path("g/<str:token>/", gift_link_views.GiftLinkView.as_view(), name="gift-link"),
    path(
        "g/<str:token>/accept/",
        gift_link_views.GiftLinkAcceptView.as_view(),
        name="gift-link-accept",
    ),
    path(
        "g/<str:token>/cancel/",
        gift_link_views.GiftLinkCancelView.as_view(),
        name="gift-link-cancel",
    ),
    path("referral/", views.ReferralApplyView.as_view(), name="referral-apply"),
    path("r/<str:code>/", views.ReferralLandingView.as_view(), name="referral"),
    path("card.svg", views.MemberCardQRView.as_view(), name="card-qr"),
    # Campaign links (README.md "Campaigns"): short, for SMS.
    path("u/<str:token>/", views.CampaignUnsubscribeView.as_view(), name="campaign-unsubscribe"),
    path("o/<str:token>.gif", views.CampaignOpenView.as_view(), name="campaign-open"),
    path("c/<str:token>/", views.CampaignClickView.as_view(), name="campaign-click"),
]
