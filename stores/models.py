"""Stores (1:1 with Oscar partners), their hours, pickup slots and pickups.

Times of day are wall-clock times in the store's own time zone; instants
(slots, pickups) are aware datetimes stored in UTC.
"""

import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not an IANA time zone."), params={"value": value})


class Service(models.TextChoices):
    CLICK_AND_COLLECT = "click_collect", _("Click & collect")
    RETURNS = "returns", _("Returns and exchanges")
    GIFT_WRAPPING = "gift_wrapping", _("Gift wrapping")
    TASTING = "tasting", _("Tastings")
    PARKING = "parking", _("Parking")
    WHEELCHAIR = "wheelchair", _("Wheelchair access")


def validate_services(value: object) -> None:
    valid = set(Service.values)
    if not isinstance(value, list) or any(item not in valid for item in value):
        raise ValidationError(_("Services must be a list of: %s") % ", ".join(sorted(valid)))


class StoreQuerySet(models.QuerySet):
    def active(self) -> "StoreQuerySet":
        return self.filter(is_active=True)

    def in_box(
        self, *, min_lat: float, max_lat: float, min_lng: float, max_lng: float
    ) -> "StoreQuerySet":
        return self.filter(
            latitude__gte=min_lat,
            latitude__lte=max_lat,
            longitude__gte=min_lng,
            longitude__lte=max_lng,
        )


class Store(models.Model):
    partner = models.OneToOneField(
        "partner.Partner", on_delete=models.PROTECT, related_name="store"
    )
    name = models.CharField(_("name"), max_length=128)
    slug = models.SlugField(_("slug"), max_length=128, unique=True)
    line1 = models.CharField(_("address"), max_length=255)
    line2 = models.CharField(_("address (continued)"), max_length=255, blank=True)
    postcode = models.CharField(_("postcode"), max_length=16)
    city = models.CharField(_("city"), max_length=128)
    country_code = models.CharField(_("country"), max_length=2, default="FR")
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Paris", validators=[validate_timezone]
    )
    photo = models.ImageField(_("photo"), upload_to="stores/", blank=True)
    services = models.JSONField(
        _("services"), default=list, blank=True, validators=[validate_services]
    )
    pickup_enabled = models.BooleanField(_("click & collect"), default=True)
    preparation_minutes = models.PositiveIntegerField(
        _("preparation lead time (minutes)"), default=60
    )
    slot_minutes = models.PositiveIntegerField(_("slot length (minutes)"), default=30)
    slot_capacity = models.PositiveIntegerField(_("orders per slot"), default=4)
    is_active = models.BooleanField(_("active"), default=True)

    objects = StoreQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["latitude", "longitude"], name="store_lat_lng")]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90), name="store_latitude_range"
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180),
                name="store_longitude_range",
            ),
            models.CheckConstraint(condition=Q(slot_minutes__gte=5), name="store_slot_minutes_min"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("stores:detail", kwargs={"slug": self.slug})

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def address_line(self) -> str:
        return ", ".join(
            part for part in (self.line1, self.line2, self.postcode, self.city) if part
        )


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningPeriod(models.Model):
    """One weekly opening period; `closes <= opens` means it ends the next day (overnight)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="opening_periods")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="opening_weekday_range"),
            models.CheckConstraint(condition=~Q(opens=F("closes")), name="opening_not_empty"),
            models.UniqueConstraint(
                fields=["store", "weekday", "opens"], name="opening_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class ExceptionalDay(models.Model):
    """A date whose hours replace the weekly ones: closed if it has no periods."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="exceptional_days")
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=128, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["store", "date"], name="exceptional_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.store} {self.date:%Y-%m-%d} {self.reason}"


class ExceptionalPeriod(models.Model):
    day = models.ForeignKey(ExceptionalDay, on_delete=models.CASCADE, related_name="periods")
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["opens"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(opens=F("closes")), name="exceptional_period_not_empty"
            )
        ]

    def __str__(self) -> str:
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"


class PickupSlot(models.Model):
    """The booking counter of one slot, created on first booking; capacity copied then.

    `booked <= capacity` is a database CHECK, and bookings go through a
    conditional UPDATE, so two checkouts can never both take the last place.
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("capacity"))
    booked = models.PositiveIntegerField(_("booked"), default=0)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["store", "starts_at"], name="pickup_slot_unique"),
            models.CheckConstraint(
                condition=Q(booked__gte=0, booked__lte=F("capacity")),
                name="pickup_slot_not_overbooked",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="pickup_slot_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store} {self.starts_at:%Y-%m-%d %H:%M}"


class PickupStatus(models.TextChoices):
    NEW = "new", _("New")
    PREPARING = "preparing", _("Preparing")
    READY = "ready", _("Ready for pickup")
    COLLECTED = "collected", _("Collected")
    UNCOLLECTED = "uncollected", _("Not collected")
    CANCELLED = "cancelled", _("Cancelled")


# Which states each state may be entered from (stores.services moves pickups along these;
# Pickup's can_* properties read them, so the dashboard offers only what is allowed).
ALLOWED_FROM: dict[str, set[str]] = {
    PickupStatus.PREPARING: {PickupStatus.NEW},
    PickupStatus.READY: {PickupStatus.NEW, PickupStatus.PREPARING},
    PickupStatus.COLLECTED: {PickupStatus.READY},
    PickupStatus.UNCOLLECTED: {PickupStatus.READY},
    PickupStatus.CANCELLED: {PickupStatus.NEW, PickupStatus.PREPARING, PickupStatus.READY},
}
ACTIVE = (PickupStatus.NEW, PickupStatus.PREPARING, PickupStatus.READY)


def new_pickup_code() -> str:
    # Six digits are easy to read out at a counter; guessing is rate-limited by
    # being bound to one order the staff member already has open.
    return f"{secrets.randbelow(1_000_000):06d}"


class Pickup(models.Model):
    order = models.OneToOneField("order.Order", on_delete=models.PROTECT, related_name="pickup")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="pickups")
    slot = models.ForeignKey(PickupSlot, on_delete=models.PROTECT, related_name="pickups")
    code = models.CharField(_("pickup code"), max_length=12, default=new_pickup_code)
    status = models.CharField(
        _("status"), max_length=16, choices=PickupStatus.choices, default=PickupStatus.NEW
    )
    created_at = models.DateTimeField(auto_now_add=True)
    customer_arrived_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["slot__starts_at"]
        indexes = [models.Index(fields=["store", "status"], name="pickup_store_status")]

    def __str__(self) -> str:
        return f"Pickup {self.order_id} at {self.store}"

    def can_become(self, status: str) -> bool:
        return self.status in ALLOWED_FROM[status]

    @property
    def can_prepare(self) -> bool:
        return self.can_become(PickupStatus.PREPARING)

    @property
    def can_be_ready(self) -> bool:
        return self.can_become(PickupStatus.READY)

    @property
    def is_ready(self) -> bool:
        return self.status == PickupStatus.READY

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE


class StorePreference(models.Model):
    """The store a signed-in shopper chose ("my store")."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_preference"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="preferences")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id} → {self.store}"


def new_shared_pass_nonce() -> str:
    return secrets.token_hex(16)


class SharedPickupPass(models.Model):
    """A second pass to a pickup that its buyer hands a friend (docs/guarantees.md R47).

    Neither its link nor its code is stored: both are keyed hashes of the row's id and
    `nonce` (stores.sharing), so the database, the admin and the dashboard show neither.
    At most one pass per pickup is not revoked (a partial unique constraint); revoking
    sets `revoked_at`, and the hand-over refuses the code from then on.
    """

    pickup = models.ForeignKey(Pickup, on_delete=models.CASCADE, related_name="shared_passes")
    friend_name = models.CharField(_("friend's name"), max_length=60, blank=True)
    nonce = models.CharField(max_length=32, default=new_shared_pass_nonce, editable=False)
    # The language the buyer shared in: the message saying the friend collected is in it.
    language = models.CharField(_("language"), max_length=10, blank=True)
    created_at = models.DateTimeField(_("created at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    collected_at = models.DateTimeField(_("collected at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["pickup"],
                condition=Q(revoked_at__isnull=True),
                name="shared_pass_one_active_per_pickup",
            ),
            models.CheckConstraint(
                condition=Q(collected_at__isnull=True) | Q(revoked_at__isnull=True),
                name="shared_pass_collected_not_revoked",
            ),
        ]

    def __str__(self) -> str:
        return f"Shared pass {self.pk} for pickup {self.pickup_id}"
