"""Signals billing owns.  Higher apps (events, partners…) connect to them in
their ``AppConfig.ready()``; billing never imports them."""

from django.dispatch import Signal

# Sent for every ledger entry, whichever path wrote it (``ledger_post``, or a
# compiled statement that announces its entry through ``ledger_announce``),
# inside the writing transaction when there is one.  Arguments: ``entry`` (a
# ``LedgerEntry`` with its id) and ``balance_before``.
ledger_posted = Signal()
