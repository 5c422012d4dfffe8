from django.dispatch import Signal

# A recipient pressed a digit whose menu action is «request a URL»: sent after
# the call's result is stored.  kwargs: account_id, url, payload (dict:
# phone, digit, campaign_id, message_id, answered_at).  integrations signs and
# POSTs it like a webhook.
ivr_url_requested = Signal()
