"""Profile editing with a confirmed e-mail change (R39) and logout by POST only (R40).

Routed in config/urls.py ahead of Oscar's customer URLs, on the same paths, so
`customer:profile-update` and `customer:logout` lead here.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import User
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import generic
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from oscar.apps.customer import views as oscar_views
from oscar.apps.customer.utils import normalise_email

from shop.security.ratelimits import Limit, attempt_over_limit, too_many_attempts

from . import services
from .erasure import account_erase
from .export import export_for_token, export_request
from .forms import ProfileForm
from .models import EmailChange


def _posted_email(group: str, request: HttpRequest) -> str:
    return normalise_email(request.POST.get("email", "")).lower()


# Per account and per address written to: each attempt can send a confirmation link,
# and each checks the current password (so it also slows down guessing it).
EMAIL_CHANGE = Limit(
    "email-change",
    "5/h",
    ("user", _posted_email),
    _("Too many e-mail address changes have been requested."),
)


class ProfileUpdateView(oscar_views.ProfileUpdateView):
    form_class = ProfileForm
    template_name = "shop/accounts/profile_form.html"

    def post(self, request, *args, **kwargs):
        posted = normalise_email(request.POST.get("email", ""))
        if posted and posted != request.user.email:
            wait = attempt_over_limit(request, EMAIL_CHANGE)
            if wait is not None:
                return too_many_attempts(
                    request,
                    EMAIL_CHANGE,
                    wait_seconds=wait,
                    back_url=reverse("customer:profile-update"),
                )
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["pending_email_change"] = EmailChange.objects.filter(
            user=self.request.user, status=EmailChange.Status.PENDING
        ).first()
        return ctx

    def form_valid(self, form):
        # Not Oscar's: it saves the new address at once and tells the old one with a
        # password reset link. Here the old address hears once, when the new one is
        # confirmed, with a link that undoes the change (services.email_change_confirm).
        with transaction.atomic():
            form.save()
            if form.email_changed():
                new_email = form.cleaned_data["email"]
                services.email_change_request(
                    user=self.request.user,
                    new_email=new_email,
                    absolute=self.request.build_absolute_uri,
                )
        if form.email_changed():
            messages.success(
                self.request,
                _(
                    "Profile updated. We sent a link to %(email)s: your e-mail address "
                    "changes when you follow it."
                )
                % {"email": new_email},
            )
        else:
            messages.success(self.request, _("Profile updated"))
        return redirect(self.get_success_url())


@method_decorator(never_cache, name="dispatch")
class _EmailChangeLinkView(generic.View):
    """GET shows what the link will do and a button; only the POST changes anything
    (R40: mail scanners that open links must not use them up)."""

    undo = False
    template_name = ""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            change = services.email_change_for_token(token=token, undo=self.undo)
        except services.EmailChangeLinkError as exc:
            return self.failed(request, exc)
        return render(request, self.template_name, {"change": change, "done": False})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            change = self.apply(request, token)
        except services.EmailChangeLinkError as exc:
            return self.failed(request, exc)
        return render(request, self.template_name, {"change": change, "done": True})

    def apply(self, request: HttpRequest, token: str) -> EmailChange:
        raise NotImplementedError

    def failed(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        return render(
            request, "shop/accounts/email_change_failed.html", {"reason": str(exc)}, status=400
        )


class EmailChangeConfirmView(_EmailChangeLinkView):
    template_name = "shop/accounts/email_change_confirm.html"

    def apply(self, request: HttpRequest, token: str) -> EmailChange:
        return services.email_change_confirm(token=token, absolute=request.build_absolute_uri)


class EmailChangeUndoView(_EmailChangeLinkView):
    undo = True
    template_name = "shop/accounts/email_change_undo.html"

    def apply(self, request: HttpRequest, token: str) -> EmailChange:
        change = services.email_change_undo(token=token)
        # The new password hash already ends this session; say so now rather than on
        # the next page.
        if request.user.is_authenticated and request.user.pk == change.user_id:
            logout(request)
        return change


@method_decorator([never_cache, csrf_protect], name="dispatch")
class LogoutView(generic.View):
    """Oscar's logout, by POST with CSRF only (R40); GET asks with a button."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(settings.OSCAR_HOMEPAGE)
        return render(request, "shop/accounts/logout.html")

    def post(self, request: HttpRequest) -> HttpResponse:
        logout(request)
        response = redirect(settings.OSCAR_HOMEPAGE)
        for cookie in settings.OSCAR_COOKIES_DELETE_ON_LOGOUT:
            response.delete_cookie(cookie)
        return response


class ProfileDeleteView(oscar_views.ProfileDeleteView):
    """Oscar's "delete profile" (password confirmed), erasing by anonymisation instead of
    deleting rows the books keep (README "Erasure"); the customer is signed out."""

    def form_valid(self, form):
        account_erase(user=self.request.user)
        logout(self.request)
        messages.success(
            self.request,
            _("Your account is erased: we keep only what the law requires for your orders."),
        )
        return redirect(self.get_success_url())


def _signed_in(request: HttpRequest) -> User:
    """The customer of a view behind login_required (shop/accounts/urls.py)."""
    if not isinstance(request.user, User):
        raise Http404
    return request.user


@method_decorator([never_cache, csrf_protect], name="dispatch")
class DataExportRequestView(generic.View):
    """The signed-in customer asks for a copy of their data (README "Export"): GET shows
    the button, POST (CSRF) queues the zip; the link arrives by e-mail."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request,
            "shop/accounts/data_export.html",
            {"days": settings.PRIVACY_EXPORT_DAYS, "active_tab": "profile"},
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        export_request(user=_signed_in(request))
        messages.success(
            request,
            _("We are preparing your data. The download link will arrive by e-mail."),
        )
        return redirect("accounts:export")


@method_decorator(never_cache, name="dispatch")
class DataExportDownloadView(generic.View):
    """The zip, for its owner only, with the link's token, until it expires (404 after)."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        export = export_for_token(user=_signed_in(request), token=token)
        if export is None:
            raise Http404
        response = HttpResponse(bytes(export.content or b""), content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="my-data.zip"'
        return response


class PrivacyView(generic.TemplateView):
    """The privacy page (public, read-only): what is kept, for how long and why, from the
    settings themselves, so it cannot drift from what the retention jobs do."""

    template_name = "shop/accounts/privacy.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            message_days=settings.NOTIFY_BODY_RETENTION_DAYS,
            attempt_days=settings.PRIVACY_DELIVERY_ATTEMPT_DAYS,
            login_days=settings.SECURITY_ACCESS_ATTEMPT_DAYS,
            guest_years=settings.PRIVACY_GUEST_ORDER_YEARS,
            export_days=settings.PRIVACY_EXPORT_DAYS,
            points_days=settings.LOYALTY_POINTS_EXPIRY_DAYS,
            policy_version=settings.MARKETING_POLICY_VERSION,
        )
        return ctx
