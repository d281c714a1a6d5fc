from django.contrib import admin

from .models import (
    ExceptionalDay,
    ExceptionalPeriod,
    OpeningPeriod,
    Pickup,
    PickupSlot,
    Store,
    StorePreference,
)


class OpeningPeriodInline(admin.TabularInline):
    model = OpeningPeriod
    extra = 0


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "partner", "city", "pickup_enabled", "is_active"]
    list_filter = ["is_active", "pickup_enabled", "city"]
    search_fields = ["name", "slug", "postcode", "city"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningPeriodInline]


class ExceptionalPeriodInline(admin.TabularInline):
    model = ExceptionalPeriod
    extra = 0


@admin.register(ExceptionalDay)
class ExceptionalDayAdmin(admin.ModelAdmin):
    list_display = ["store", "date", "reason"]
    list_filter = ["store"]
    date_hierarchy = "date"
    inlines = [ExceptionalPeriodInline]


@admin.register(PickupSlot)
class PickupSlotAdmin(admin.ModelAdmin):
    list_display = ["store", "starts_at", "ends_at", "booked", "capacity"]
    list_filter = ["store"]


@admin.register(Pickup)
class PickupAdmin(admin.ModelAdmin):
    list_display = ["order", "store", "slot", "status", "customer_arrived_at"]
    list_filter = ["store", "status"]
    raw_id_fields = ["order", "slot"]
    readonly_fields = ["code"]


@admin.register(StorePreference)
class StorePreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "store", "updated_at"]
    raw_id_fields = ["user"]
