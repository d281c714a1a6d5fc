"""Staff pages: the outbox with its attempts and errors, and a retry action for dead letters."""

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import DetailView, ListView

from ..models import Channel, CommunicationEventType, OutboxMessage
from ..outbox import message_retry
from ..selectors import outbox_counts_last_day, outbox_event_codes, outbox_messages
from .forms import ChannelTemplatesForm, TranslationForm

staff_only = method_decorator(staff_member_required(login_url="customer:login"), name="dispatch")


@staff_only
class OutboxListView(ListView):
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
        context.update(
            filters=self.get_filters(),
            counts=outbox_counts_last_day(),
            statuses=OutboxMessage.Status.choices,
            channels=Channel.choices,
            event_codes=outbox_event_codes(),
            event_types=CommunicationEventType.objects.order_by("code"),
        )
        return context


@staff_only
class OutboxDetailView(DetailView):
    template_name = "communication/dashboard/outbox_detail.html"
    context_object_name = "message"

    def get_queryset(self):
        return OutboxMessage.objects.select_related("user").prefetch_related("attempt_log")


@staff_only
class OutboxRetryView(View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        message = get_object_or_404(OutboxMessage, pk=pk)
        if message_retry(message_id=message.pk):
            messages.success(request, _("Message #%(pk)s will be sent again.") % {"pk": pk})
        else:
            messages.error(request, _("Only failed messages with content can be retried."))
        return redirect("communication:dashboard-detail", pk=pk)


@staff_only
class ChannelTemplatesView(View):
    """SMS and push templates of an event type, and every template in other languages.

    Email templates in the default language stay on Oscar's own page.
    """

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

    def get(self, request: HttpRequest, code: str) -> HttpResponse:
        event_type = get_object_or_404(CommunicationEventType, code=code)
        main, translations = self.forms(event_type)
        return self.render(request, event_type, main, translations)

    def post(self, request: HttpRequest, code: str) -> HttpResponse:
        event_type = get_object_or_404(CommunicationEventType, code=code)
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
