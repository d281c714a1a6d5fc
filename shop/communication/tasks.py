"""Thin Celery wrappers around the outbox services."""

from celery import shared_task

from .outbox import message_deliver, messages_deliver, outbox_bodies_prune, outbox_sweep


# Idempotent (the claim in message_deliver lets one run send), so it may be redelivered
# after a worker dies mid-send (R26).
@shared_task(
    name="shop.communication.tasks.deliver_message",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def deliver_message(message_id: int) -> str:
    return message_deliver(message_id=message_id)


# Marketing messages, a few to a task (outbox.messages_publish): each is still claimed on
# its own, so a redelivered task sends none twice (R26).
@shared_task(
    name="shop.communication.tasks.deliver_messages",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def deliver_messages(message_ids: list[int]) -> dict[str, int]:
    return messages_deliver(message_ids=message_ids)


@shared_task(name="shop.communication.tasks.sweep_outbox", ignore_result=True)
def sweep_outbox() -> dict[str, int]:
    return outbox_sweep()


# Idempotent: erasing what is already erased changes nothing.
@shared_task(
    name="shop.communication.tasks.prune_message_bodies",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def prune_message_bodies() -> dict[str, int]:
    return outbox_bodies_prune()
