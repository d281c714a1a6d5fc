"""The signed-in member's own points: balance, history, card, rewards and redeeming.

Any signed-in user, for their own membership only (found from the user, never from an id
in the address); one who has not joined gets 404 `not_a_member`. Redeeming calls
loyalty.services.rewards.reward_redeem as loyalty/views.py RedeemView does, with the app's
key making a repeated request redeem once.
"""

from __future__ import annotations

import io
from typing import Any

import segno
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.models import Member, Reward
from loyalty.selectors import entries_labelled, member_for_user, reward_offers
from loyalty.services.errors import LoyaltyError
from loyalty.services.rewards import reward_redeem
from shop.api.errors import Refused


def signed_in_member(request: Request) -> Member:
    member = member_for_user(user=request.user)
    if member is None:
        raise exceptions.NotFound(
            _("You have not joined the loyalty programme yet."), code="not_a_member"
        )
    return member


class BalanceSerializer(serializers.Serializer):
    number = serializers.CharField()
    tier = serializers.CharField()
    tier_label = serializers.CharField(source="get_tier_display")
    balance = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Points earned, confirmed after returns.")


class BalanceView(APIView):
    """A signed-in member: their points and tier."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=BalanceSerializer)
    def get(self, request: Request) -> Response:
        return Response(BalanceSerializer(signed_in_member(request)).data)


class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    amount = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    # A field named like Field.label: DRF's metaclass takes it out of the class attributes.
    label = serializers.CharField()  # type: ignore[assignment]
    created_at = serializers.DateTimeField()


class HistoryView(ListAPIView):
    """A signed-in member: their points entries, newest first."""

    permission_classes = [IsAuthenticated]
    serializer_class = EntrySerializer

    def get_queryset(self) -> Any:
        return signed_in_member(self.request).entries.order_by("-created_at", "-pk")

    def paginate_queryset(self, queryset: Any) -> list | None:
        page = super().paginate_queryset(queryset)
        return entries_labelled(list(page)) if page is not None else None


class CardSerializer(serializers.Serializer):
    number = serializers.CharField()
    tier = serializers.CharField()
    tier_label = serializers.CharField()
    qr_svg = serializers.CharField(help_text="The member number as a QR code (SVG document).")


class CardView(APIView):
    """A signed-in member: their member card, shown at the counter."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=CardSerializer)
    def get(self, request: Request) -> Response:
        member = signed_in_member(request)
        svg = io.BytesIO()
        segno.make(member.number, error="m").save(svg, kind="svg", scale=6, border=2)
        card = {
            "number": member.number,
            "tier": member.tier,
            "tier_label": member.get_tier_display(),
            "qr_svg": svg.getvalue().decode(),
        }
        response = Response(CardSerializer(card).data)
        response["Cache-Control"] = "private, max-age=3600"
        return response


class RewardSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="reward.pk")
    name = serializers.CharField(source="reward.name")
    kind = serializers.CharField(source="reward.kind")
    points_cost = serializers.IntegerField(source="reward.points_cost")
    stock = serializers.IntegerField(source="reward.stock", allow_null=True)
    redeemed = serializers.IntegerField(help_text="Times this member redeemed it.")
    refusal = serializers.CharField(
        allow_null=True, help_text="Why it cannot be redeemed now; null when it can."
    )
    missing = serializers.IntegerField(help_text="Points the member still needs for it.")


class RewardsView(APIView):
    """A signed-in member: the rewards on offer, each with whether they may redeem it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=RewardSerializer(many=True))
    def get(self, request: Request) -> Response:
        offers = reward_offers(member=signed_in_member(request))
        return Response(RewardSerializer(offers, many=True).data)


class RedeemSerializer(serializers.Serializer):
    key = serializers.CharField(
        max_length=64,
        write_only=True,
        help_text="A key the app makes once per tap: the same key redeems once.",
    )
    voucher_code = serializers.CharField(read_only=True)
    balance = serializers.IntegerField(read_only=True)


class RedeemView(APIView):
    """A signed-in member: spend points on a reward; the voucher code goes in the basket.
    409 `refused` with the reason when the reward or the points do not allow it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=RedeemSerializer, responses={201: RedeemSerializer})
    def post(self, request: Request, pk: int) -> Response:
        member = signed_in_member(request)
        reward = get_object_or_404(Reward, pk=pk)
        given = RedeemSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            redemption = reward_redeem(
                member=member,
                reward=reward,
                idempotency_key=f"redeem:{member.pk}:{given.validated_data['key']}",
            )
        except LoyaltyError as exc:
            raise Refused(exc.message) from exc
        member.refresh_from_db(fields=["balance"])
        body = {"voucher_code": redemption.voucher.code, "balance": member.balance}
        return Response(RedeemSerializer(body).data, status=status.HTTP_201_CREATED)
