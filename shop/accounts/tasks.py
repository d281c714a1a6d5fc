"""Thin Celery wrappers around the account services."""

from celery import shared_task

from .export import export_build
from .retention import privacy_prune


# Idempotent (a built export is not built again), so a redelivery after a worker died is safe.
@shared_task(
    name="shop.accounts.tasks.build_data_export",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def build_data_export(export_id: int, token: str) -> bool:
    return export_build(export_id=export_id, token=token)


# Idempotent: what is pruned stays pruned.
@shared_task(name="shop.accounts.tasks.prune_personal_data", ignore_result=True)
def prune_personal_data() -> dict[str, int]:
    return privacy_prune()
