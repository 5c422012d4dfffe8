import pytest
from django.core.management import CommandError, call_command

from cabinet.models import User

pytestmark = pytest.mark.django_db


def test_seed_staff_in_development_only(settings):
    settings.DEVELOPMENT = False
    with pytest.raises(CommandError):
        call_command("seed_staff")
    assert not User.objects.exists()
    settings.DEVELOPMENT = True
    call_command("seed_staff")
    call_command("seed_staff")
    staff = User.objects.get(email="staff@example.com")
    assert staff.is_staff and staff.check_password("staff12345")
