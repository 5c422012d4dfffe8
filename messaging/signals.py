from django.dispatch import Signal

# Sent after the transaction that changed message statuses commits.
# kwargs: channel (str), changes (list of (message_id, campaign_id, old_status,
# new_status)).  Receivers must be fast (enqueue work, never call out).
statuses_changed = Signal()

# Sent after the transaction that stored recipients' replies (an SMS, Viber, VK/OK
# message answering one of ours, or an incoming SMS) commits.  kwargs: channel (str),
# replies (list of dicts with account_id, campaign_id, message_id, phone, contact_id,
# sender, text, external_id, received_at).  A carrier may repeat a callback, so a reply
# can be announced twice: receivers key on (channel, external_id).  The online chat
# and events listen here; channels never import them.
replies_received = Signal()
