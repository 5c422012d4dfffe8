from django.dispatch import Signal

# Sent by ``services.account_create`` inside its transaction, after the account
# and its owner exist.  kwargs: account, user, opening_balance (Decimal or None),
# request (the sign-up's request; None when no person signed up).
# The apps above the cabinet react here instead of being called from it:
# billing credits the opening balance through its ledger (billing/receivers.py)
# and returns True, so ``account_create`` can prove the money was posted.
account_created = Signal()
