"""Billing's answers to what the apps below it announce."""

from django.dispatch import receiver

from cabinet.signals import account_created

from .services import account_credit


@receiver(account_created, dispatch_uid="billing.opening_balance")
def credit_opening_balance(sender, account, opening_balance=None, **kwargs) -> bool:
    """A new account's starting balance (``create_account --balance``, the demo,
    test fixtures) is an ordinary ledger credit, in the creating transaction."""
    if not opening_balance:
        return False
    account_credit(
        account_id=account.pk,
        amount=opening_balance,
        reason="Начальный баланс",
        reference="initial",
    )
    return True
