"""What a production process refuses to start without.

The development defaults in settings.py — a SECRET_KEY and an acquirer secret
published in this repository, and the fake acquirer whose test card credits
any amount — let anyone sign an acquirer callback and credit themselves.  They
are allowed only in development (``DEBUG=1`` or ``DEVELOPMENT=1``; ``make run``
sets the latter).  Otherwise the web server (cabinet/wsgi.py, asgi.py) and the
Celery worker and beat (cabinet/celery.py) stop at start-up with the list of
what to set, and ``manage.py check --deploy`` reports the same as errors.

The rules are Django system checks tagged ``production`` (deployment checks),
so each app states its own: SECRET_KEY here, the acquirer in billing/checks.py.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

PRODUCTION = "production"  # the checks' tag
# Secrets shipped as examples somewhere in this repository or its history.
PUBLISHED_SECRETS = {
    "dev-insecure-secret-key-change-me-in-production",
    "dev-insecure-acquirer-secret",
    "change-me",
    "changeme",
    "secret",
}
MIN_SECRET_KEY_LENGTH = 50


def development_mode() -> bool:
    return bool(settings.DEBUG or getattr(settings, "DEVELOPMENT", False))


def weak_secret(value: str, min_length: int) -> bool:
    """Empty, published, Django's placeholder, too short or too uniform."""
    value = value or ""
    return (
        value in PUBLISHED_SECRETS
        or value.startswith("django-insecure-")
        or len(value) < min_length
        or len(set(value)) < 5
    )


@checks.register(PRODUCTION, deploy=True)
def check_secret_key(app_configs=None, **kwargs):
    if development_mode() or not weak_secret(
        settings.SECRET_KEY, MIN_SECRET_KEY_LENGTH
    ):
        return []
    return [
        checks.Error(
            f"SECRET_KEY: set a random value of at least {MIN_SECRET_KEY_LENGTH} "
            "characters (not the development default, not 'change-me').",
            id="cabinet.E001",
        )
    ]


def production_problems() -> list[str]:
    """The errors of every ``production`` check (none in development)."""
    return [
        message.msg
        for message in checks.run_checks(
            tags=[PRODUCTION], include_deployment_checks=True
        )
        if message.is_serious()
    ]


def refuse_insecure_start() -> None:
    """Raise ``ImproperlyConfigured`` listing what to set, if anything."""
    problems = production_problems()
    if problems:
        raise ImproperlyConfigured(
            "Refusing to start without production settings (DEBUG and "
            "DEVELOPMENT are off; see README, 'Production'):\n  - "
            + "\n  - ".join(problems)
        )
