from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from cabinet.models import User
from cabinet.services import account_create, token_create


class Command(BaseCommand):
    help = "Create an account and its owner; --token prints a new API key as the last line."  # noqa: E501

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--password", required=True)
        parser.add_argument("--balance", default="0")
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--token",
            action="store_true",
            help="create an API token with all scopes and print it",
        )

    def handle(self, *args, email, password, balance, name, token, **options):
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"Неверный email: {email}")
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"Пользователь {email} уже существует")
        try:
            amount = Decimal(balance)
        except InvalidOperation:
            raise CommandError(f"Неверная сумма: {balance}")
        if not amount.is_finite():
            raise CommandError(f"Неверная сумма: {balance}")
        if amount < 0:
            raise CommandError("Начальный баланс не может быть отрицательным")
        user = account_create(email=email, password=password, name=name, balance=amount)
        # Created by the service's operator, so vetted: no new-account moderation.
        type(user.account).objects.filter(pk=user.account_id).update(is_trusted=True)
        # The credit went through the ledger, which moved the balance in the
        # database: the account object built before it still says 0.
        user.account.refresh_from_db()
        self.stdout.write(
            f"account {user.account_id} created for {user.email}, "
            f"balance {user.account.balance} RUB"
        )
        if token:
            created = token_create(account=user.account, description="create_account")
            self.stdout.write(created.key)
