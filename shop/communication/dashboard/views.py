"""Staff pages: the outbox with its attempts and errors, a retry action for dead letters,
the channel templates, and a store's pickup messages for its staff.

Who may do what is in the README ("Notifications"): the outbox needs
`communication.view_outboxmessage` (retry, or send again a message whose delivery is
unknown: `change_outboxmessage`), templates
`communication.change_communicationeventtype`; signed-in users without the permission get
a 403, anonymous visitors the login page. No page shows the content of a message that
carries a secret, to anybody; recipients are masked for everyone but superusers.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import DetailView, ListView

from ..models import Channel, CommunicationEventType, OutboxMessage
from ..outbox import message_retry
from ..selectors import (
    outbox_counts_last_day,
    outbox_event_codes,
    outbox_messages,
    store_messages_visible_to,
)
from .forms import ChannelTemplatesForm, TranslationForm
from .redaction import recipient_for

WITHHELD = _("content withheld: contains a secret meant for the customer")


class StaffPermissionRequired(PermissionRequiredMixin):
    """403 for a signed-in user without the permission, the login page for anybody else."""

    login_url = reverse_lazy("customer:login")


def _redact(message: OutboxMessage, user) -> OutboxMessage:
    message.recipient_shown = recipient_for(
        user, channel=message.channel, recipient=message.recipient
    )
    if message.user is not None:
        message.user_email_shown = recipient_for(
            user, channel=Channel.EMAIL, recipient=message.user.email
        )
    return message


class OutboxListView(StaffPermissionRequired, ListView):
    permission_required = "communication.view_outboxmessage"
    template_name = "communication/dashboard/outbox_list.html"
    context_object_name = "outbox_messages"
    paginate_by = 50

    def get_filters(self) -> dict[str, str]:
        return {
            name: self.request.GET.get(name, "").strip()
            for name in ("status", "channel", "event_code", "customer")
        }

    def get_queryset(self):
        return outbox_messages(**self.get_filters())

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        for message in context["outbox_messages"]:
            _redact(message, self.request.user)
        context.update(
            filters=self.get_filters(),
            counts=outbox_counts_last_day(),
            statuses=OutboxMessage.Status.choices,
            channels=Channel.choices,
            event_codes=outbox_event_codes(),
        )
        return context


class OutboxDetailView(StaffPermissionRequired, DetailView):
    permission_required = "communication.view_outboxmessage"
    template_name = "communication/dashboard/outbox_detail.html"
    context_object_name = "message"

    def get_queryset(self):
        return OutboxMessage.objects.select_related("user").prefetch_related("attempt_log")

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        _redact(context["message"], self.request.user)
        context["withheld"] = WITHHELD
        return context


class OutboxRetryView(StaffPermissionRequired, View):
    permission_required = "communication.change_outboxmessage"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        message = get_object_or_404(OutboxMessage, pk=pk)
        if message.has_secret:
            messages.error(
                request,
                _(
                    "This message carried a secret (a link or code) that must not be sent "
                    "again: ask the customer to request a new one."
                ),
            )
        elif message_retry(message_id=message.pk):
            messages.success(request, _("Message #%(pk)s will be sent again.") % {"pk": pk})
        else:
            messages.error(
                request,
                _(
                    "Only failed messages, or messages whose delivery is unknown, can be sent "
                    "again, and only while they still have content."
                ),
            )
        return redirect("communication:dashboard-detail", pk=pk)


class StoreMessagesView(ListView):
    """A store's staff see its pickup messages: event, channel, status, time and a masked
    recipient, never their content. 404 for anybody who is not staff of a store."""

    template_name = "communication/dashboard/store_messages.html"
    context_object_name = "outbox_messages"
    paginate_by = 50

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("customer:login"))
        if not (
            request.user.has_perm("partner.dashboard_access")
            or request.user.has_perm("communication.view_outboxmessage")
        ):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return store_messages_visible_to(self.request.user)

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        for message in context["outbox_messages"]:
            _redact(message, self.request.user)
        return context


class TemplateListView(StaffPermissionRequired, ListView):
    """The event types whose SMS, push and translated templates can be edited here."""

    permission_required = "communication.change_communicationeventtype"
    template_name = "communication/dashboard/template_list.html"
    context_object_name = "event_types"

    def get_queryset(self):
        return CommunicationEventType.objects.order_by("code")


class ChannelTemplatesView(StaffPermissionRequired, View):
    """SMS and push templates of an event type, and every template in other languages.

    Email templates in the default language stay on Oscar's own page.
    """

    permission_required = "communication.change_communicationeventtype"

    template_name = "communication/dashboard/channel_templates.html"

    def forms(self, event_type: CommunicationEventType, data=None) -> tuple:
        main = ChannelTemplatesForm(data, instance=event_type, prefix="main")
        translations = []
        for code, name in settings.LANGUAGES:
            if code == settings.LANGUAGE_CODE.split("-")[0]:
                continue
            instance = event_type.translations.filter(language=code).first()
            form = TranslationForm(data, instance=instance, prefix=code)
            translations.append((code, name, form))
        return main, translations

    def event_type(self, request: HttpRequest, code: str) -> CommunicationEventType:
        """The event type; one that carries a secret only for superusers.

        Whoever writes a reset email's template can send the link anywhere (an image in the
        HTML on a server of theirs, which the mail client loads), so those templates are
        not a marketer's to change.
        """
        event_type = get_object_or_404(CommunicationEventType, code=code)
        if event_type.is_secret and not request.user.is_superuser:
            raise PermissionDenied(_("Templates of messages that carry a secret: superusers only."))
        return event_type

    def get(self, request: HttpRequest, code: str) -> HttpResponse:
        event_type = self.event_type(request, code)
        main, translations = self.forms(event_type)
        return self.render(request, event_type, main, translations)

    def post(self, request: HttpRequest, code: str) -> HttpResponse:
        event_type = self.event_type(request, code)
        main, translations = self.forms(event_type, request.POST)
        if not (main.is_valid() and all(form.is_valid() for _, _, form in translations)):
            return self.render(request, event_type, main, translations, status=400)
        with transaction.atomic():
            main.save()
            for language, _name, form in translations:
                translation = form.save(commit=False)
                translation.event_type, translation.language = event_type, language
                translation.save()
        messages.success(request, _("Templates saved."))
        return redirect("communication:dashboard-templates", code=code)

    def render(self, request, event_type, main, translations, status=200) -> HttpResponse:
        context = {"event_type": event_type, "form": main, "translations": translations}
        return render(request, self.template_name, context, status=status)
