from django.contrib import admin
from oscar.apps.payment.admin import *  # noqa: F403

from .models import StripeEvent, StripePayment, StripeRefund

admin.site.register(StripePayment)
admin.site.register(StripeRefund)
admin.site.register(StripeEvent)
