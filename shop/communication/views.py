"""Customer-facing pages: notification settings, push subscriptions, the service worker."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import FormView, TemplateView

from shop.pwa.worker import worker_config_json

from .channels import push_enabled
from .forms import NotificationSettingsForm
from .models import Channel, ConsentRecord
from .preferences import consents_current, consents_update, preference_for, preference_update
from .push import InvalidSubscription, subscription_delete, subscription_save


def _signed_in(request: HttpRequest) -> User:
    """The request's user, signed in: the views below let nobody else in
    (LoginRequiredMixin)."""
    user = request.user
    assert user.is_authenticated, "LoginRequiredMixin lets only signed-in users in"
    return user


class NotificationSettingsView(LoginRequiredMixin, FormView):
    form_class = NotificationSettingsForm
    template_name = "communication/notification_settings.html"

    def get_initial(self) -> dict:
        preference = preference_for(user=_signed_in(self.request))
        consents = consents_current(user=_signed_in(self.request))
        return {
            "email": preference.email,
            "sms": preference.sms,
            "push": preference.push,
            "phone_number": preference.phone_number,
            **{f"marketing_{channel}": granted for channel, granted in consents.items()},
        }

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context.update(
            page_title=_("Notifications"),
            active_tab="notification-settings",
            push_enabled=push_enabled(),
            vapid_public_key=settings.VAPID_PUBLIC_KEY,
            push_subscription_count=_signed_in(self.request).push_subscriptions.count(),
            policy_version=settings.MARKETING_POLICY_VERSION,
        )
        consents = consents_current(user=_signed_in(self.request))
        context["consent_channels"] = [
            (channel, label, consents[channel]) for channel, label in Channel.choices
        ]
        user = _signed_in(self.request)
        context["consent_history"] = ConsentRecord.objects.filter(user=user)[:50]
        return context

    def form_valid(self, form: NotificationSettingsForm) -> HttpResponse:
        data = form.cleaned_data
        user = _signed_in(self.request)
        preference_update(
            user=user,
            email=data["email"],
            sms=data["sms"],
            push=data["push"],
            phone_number=data["phone_number"],
        )
        consents_update(
            user=user,
            wanted={channel: data[f"marketing_{channel}"] for channel in ("email", "sms", "push")},
            source="account-notification-settings",
        )
        messages.success(self.request, _("Your notification settings are saved."))
        return redirect("communication:settings")


@method_decorator(require_POST, name="dispatch")
class ConsentWithdrawView(LoginRequiredMixin, View):
    """The signed-in customer withdraws marketing consent on one channel in one tap (R41):
    POST with CSRF, a new withdrawal record, back to the notification settings."""

    def post(self, request: HttpRequest, channel: str) -> HttpResponse:
        if channel not in Channel.values:
            raise Http404
        consents_update(
            user=_signed_in(request), wanted={channel: False}, source="account-consent-withdraw"
        )
        messages.success(request, _("You will no longer receive offers and news this way."))
        return redirect(reverse("communication:settings") + "#consents")


class PushSubscriptionView(LoginRequiredMixin, View):
    """POST a PushSubscription.toJSON() to subscribe this device; DELETE to unsubscribe."""

    raise_exception = True  # 403 JSON-friendly instead of a login redirect

    def _payload(self, request: HttpRequest) -> object:
        try:
            return json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidSubscription("the body is not JSON") from exc

    def post(self, request: HttpRequest) -> JsonResponse:
        try:
            subscription = subscription_save(
                user=_signed_in(request),
                payload=self._payload(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
        except InvalidSubscription as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        return JsonResponse({"id": subscription.pk}, status=201)

    def delete(self, request: HttpRequest) -> JsonResponse:
        try:
            payload = self._payload(request)
            endpoint = payload.get("endpoint") if isinstance(payload, dict) else None
            if not isinstance(endpoint, str) or not endpoint:
                raise InvalidSubscription("endpoint is missing")
        except InvalidSubscription as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        return JsonResponse(
            {"deleted": subscription_delete(user=_signed_in(request), endpoint=endpoint)}
        )


class ServiceWorkerView(TemplateView):
    """The service worker, served from the site root so its scope covers every page. Public."""

    template_name = "communication/sw.js"
    content_type = "application/javascript"

    def get_context_data(self, **kwargs):
        # The precache list and offline pages, built now (README "Install on a phone (PWA)").
        return super().get_context_data(config=worker_config_json(), **kwargs)

    def render_to_response(self, context, **kwargs) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        response["Service-Worker-Allowed"] = "/"
        response["Cache-Control"] = "no-cache"
        return response
