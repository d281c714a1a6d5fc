"""Writes for campaigns: launch, pause, resume, cancel, audience resolution and sending.

How a campaign goes out (README.md "Campaigns"):

1. `campaign_launch` checks the campaign and moves it to "scheduled" (a send time ahead)
   or "sending". Beat's sweep starts scheduled campaigns when their time comes.
2. `campaign_audience_resolve` copies the segment's members into CampaignRecipient with
   one INSERT ... SELECT (the segment's single query, loyalty.selectors.segment_members),
   choosing the control group by a hash of (campaign, member) in SQL: resolving again
   picks the same members. A "once" campaign is resolved once (a snapshot); a triggered
   one adds, on each run, the members its trigger selects that day, each with the
   occurrence that selected them (the birthday's year, the last order's day, the points
   lot about to expire): a member is reached once per occurrence, so again next year.
3. `campaign_send_batch` takes the next `size` recipients without any send row, in member
   order, under the campaign's row lock; checks each channel's marketing consent at that
   moment (R41); records the member's reward (once per occurrence: R30) and one outbox
   message per channel through the Dispatcher; and writes the CampaignSend rows, UNIQUE
   per (campaign, member, channel, occurrence) (R28). It is one transaction: a worker
   killed half-way leaves nothing of the batch, and the next run (the chain, or beat's
   sweep) does it again.

Modules: `lifecycle` (checks, drafts, status changes), `audience` (resolution, control
group), `sending` (batches), `tracking` (counts, beat's sweep, unsubscribe, opens, clicks),
`preview` (preview and test send), `errors`; every name below is importable from
loyalty.services.campaigns.
"""

from .audience import (
    POINTS_EXPIRING_DAYS,
    campaign_audience_resolve,
    control_bucket,
)
from .errors import (
    CampaignError,
)
from .lifecycle import (
    MESSAGE_FIELDS,
    campaign_cancel,
    campaign_launch,
    campaign_lock,
    campaign_pause,
    campaign_problems,
    campaign_resume,
    campaign_save,
    campaign_start_enqueue,
    utm_slug_for,
)
from .preview import (
    campaign_preview,
    campaign_test_send,
    member_store,
)
from .sending import (
    campaign_send_batch,
    campaign_token_values,
)
from .tracking import (
    MESSAGED_STATUSES,
    SweepResult,
    campaign_counts,
    campaign_send_clicked,
    campaign_send_opened,
    campaign_sends_sync,
    campaign_unsubscribe,
    campaigns_sweep,
    campaigns_triggered_due,
)

__all__ = [
    "CampaignError",
    "MESSAGED_STATUSES",
    "MESSAGE_FIELDS",
    "POINTS_EXPIRING_DAYS",
    "SweepResult",
    "campaign_audience_resolve",
    "campaign_cancel",
    "campaign_counts",
    "campaign_launch",
    "campaign_lock",
    "campaign_pause",
    "campaign_preview",
    "campaign_problems",
    "campaign_resume",
    "campaign_save",
    "campaign_send_batch",
    "campaign_send_clicked",
    "campaign_send_opened",
    "campaign_sends_sync",
    "campaign_start_enqueue",
    "campaign_test_send",
    "campaign_token_values",
    "campaign_unsubscribe",
    "campaigns_sweep",
    "campaigns_triggered_due",
    "control_bucket",
    "member_store",
    "utm_slug_for",
]
