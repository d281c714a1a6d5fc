from django.urls import path

from . import views
from .dashboard import views as dashboard_views

app_name = "communication"

urlpatterns = [
    path(
        "accounts/notification-settings/",
        views.NotificationSettingsView.as_view(),
        name="settings",
    ),
    path(
        "accounts/notification-settings/withdraw/<slug:channel>/",
        views.ConsentWithdrawView.as_view(),
        name="consent-withdraw",
    ),
    path("accounts/push-subscriptions/", views.PushSubscriptionView.as_view(), name="push"),
    path("dashboard/messages/", dashboard_views.OutboxListView.as_view(), name="dashboard-list"),
    path(
        "dashboard/messages/<int:pk>/",
        dashboard_views.OutboxDetailView.as_view(),
        name="dashboard-detail",
    ),
    path(
        "dashboard/messages/<int:pk>/retry/",
        dashboard_views.OutboxRetryView.as_view(),
        name="dashboard-retry",
    ),
    path(
        "dashboard/messages/store/",
        dashboard_views.StoreMessagesView.as_view(),
        name="dashboard-store",
    ),
    path(
        "dashboard/messages/templates/",
        dashboard_views.TemplateListView.as_view(),
        name="dashboard-template-list",
    ),
    path(
        "dashboard/messages/templates/<slug:code>/",
        dashboard_views.ChannelTemplatesView.as_view(),
        name="dashboard-templates",
    ),
]
