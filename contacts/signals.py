"""Signals contacts owns.  Higher apps (events…) connect to them in their
``AppConfig.ready()``; contacts never imports them."""

from django.dispatch import Signal

# Sent inside the transaction that added contacts to a group (so a receiver
# that writes rows writes them in the same transaction: they commit or roll
# back with the contacts).  kwargs: ``account_id``, ``group_id``, ``source``
# (``"manual"``, ``"quick"``, ``"import"``, ``"api"``, ``"copy"``,
# ``"report"``) and which contacts, one of: ``contact_ids`` (list),
# ``phones`` (list: the group's contacts with these numbers) or
# ``created_at`` (every contact of the group created at that instant — an
# import's rows share it).  Receivers must be fast: no calls out.
contacts_added = Signal()
