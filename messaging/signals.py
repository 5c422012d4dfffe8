from django.dispatch import Signal

# Sent after the transaction that changed message statuses commits.
# kwargs: channel (str), changes (list of (message_id, campaign_id, old_status,
# new_status)).  Receivers must be fast (enqueue work, never call out).
statuses_changed = Signal()
