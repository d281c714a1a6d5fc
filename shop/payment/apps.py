import oscar.apps.payment.apps as apps


class PaymentConfig(apps.PaymentConfig):
    """Oscar's payment app with card payments through Stripe (shop/payment/settlement.py)."""

    name = "shop.payment"

    def ready(self):
        super().ready()
        from . import receivers  # noqa: F401
