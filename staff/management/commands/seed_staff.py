"""A staff sign-in for local moderation (``make run``): staff@example.com /
staff12345, a staff member without an account who opens /staff/."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cabinet.models import User

STAFF_EMAIL = "staff@example.com"
STAFF_PASSWORD = "staff12345"


class Command(BaseCommand):
    help = (
        "Create the local staff sign-in (staff@example.com / staff12345). Idempotent."
    )

    def handle(self, *args, **options):
        if not settings.DEVELOPMENT:
            # A published password is for a developer's machine only.
            raise CommandError(
                "seed_staff runs in development mode only (DEVELOPMENT=1); in "
                "production create staff with createsuperuser"
            )
        if not User.objects.filter(email=STAFF_EMAIL).exists():
            User.objects.create_superuser(
                email=STAFF_EMAIL, password=STAFF_PASSWORD, full_name="Сотрудник"
            )
        self.stdout.write(
            f"staff console: /staff/ — sign in as {STAFF_EMAIL} / {STAFF_PASSWORD}"
        )
