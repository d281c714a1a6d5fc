from celery import shared_task

from . import reconciliation


@shared_task(
    name="shop.payment.tasks.payments_reconcile", acks_late=True, reject_on_worker_lost=True
)
def payments_reconcile() -> dict[str, int]:
    """R5 and R15, run by beat. Idempotent: a repeated or redelivered run changes nothing."""
    return reconciliation.payments_reconcile()
