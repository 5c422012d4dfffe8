"""What a carrier link (SMPP) records beside the messages: each message's
hand-over to the carrier, as the carrier answers it (exactly once at the
carrier, docs/DECISIONS.md «Hand-over to a carrier»), and incoming messages
(recipients' replies and other mobile-originated SMS)."""

from django.db import models
from django.utils.timezone import now

__all__ = ["Handover", "IncomingMessage"]


class Handover(models.Model):
    """A message's hand-over to a carrier over a stateful link.  Written
    *before* its first PDU leaves (``pending``) and again as the carrier
    answers (``accepted`` with the carrier's id, ``rejected``); a hand-over
    whose answer was lost with a link or a worker is ``unknown`` until a
    report settles it (``messaging.handovers``)."""

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        ACCEPTED = "accepted", "accepted"
        REJECTED = "rejected", "rejected"
        UNKNOWN = "unknown", "unknown"
        RESUBMIT = "resubmit", "resubmit"

    message_id = models.BigIntegerField(primary_key=True)
    channel = models.CharField(max_length=16)
    state = models.CharField(max_length=10, choices=State.choices)
    # The carrier's id of the (first part of the) message.
    gateway_id = models.CharField(max_length=64, blank=True)
    # The destination address as sent (digits): reports of unknown
    # hand-overs are matched by it.
    address = models.CharField(max_length=21)
    attempt = models.PositiveSmallIntegerField(default=1)
    # A long text's parts the carrier accepted, by part index ("0", "1"…) →
    # the carrier's id of that part: a part refused temporarily is sent again
    # alone, never the parts already accepted.
    parts = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [
            models.Index(
                fields=["gateway_id"],
                condition=~models.Q(gateway_id=""),
                name="handover_gateway_idx",
            ),
            models.Index(
                fields=["channel", "address"],
                condition=models.Q(state__in=["pending", "unknown"]),
                name="handover_open_address_idx",
            ),
            models.Index(
                fields=["channel", "updated_at"],
                condition=models.Q(state="unknown"),
                name="handover_unknown_idx",
            ),
        ]

    def __str__(self):
        return f"{self.message_id} {self.state} {self.gateway_id}"


class IncomingMessage(models.Model):
    """A mobile-originated message a carrier delivered to us (SMPP
    ``deliver_sm`` that is not a report): a reply to one of our messages when
    one went to that number from that sender, else an orphan (no account)."""

    channel = models.CharField(max_length=16)
    phone = models.CharField(max_length=21)
    recipient = models.CharField(max_length=64, blank=True)
    text = models.TextField(blank=True)
    external_id = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=now)
    account_id = models.BigIntegerField(null=True, blank=True)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True)
    contact_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="incoming_unique_external"
            )
        ]
        indexes = [models.Index(fields=["account_id", "-received_at"])]

    def __str__(self):
        return f"{self.phone} → {self.recipient}: {self.text[:40]}"
