"""Production checks of the acquirer settings (see cabinet/deploy.py): a real
acquirer or none (never the fake one), and a callback secret of its own."""

from django.conf import settings
from django.core import checks

from cabinet.deploy import PRODUCTION, development_mode, weak_secret

from .acquirer import FAKE_ACQUIRER, NO_ACQUIRER

MIN_ACQUIRER_SECRET_LENGTH = 32


@checks.register(PRODUCTION, deploy=True)
def check_acquirer(app_configs=None, **kwargs):
    if development_mode():
        return []
    errors = []
    backend = (settings.BILLING_ACQUIRER.get("BACKEND") or "").strip()
    if not backend:
        errors.append(
            checks.Error(
                "BILLING_ACQUIRER: choose the card/e-wallet acquirer (a dotted "
                f"path) or '{NO_ACQUIRER}' to take payments by invoice only; the "
                "fake acquirer is for development.",
                id="billing.E001",
            )
        )
    if backend.lower() == NO_ACQUIRER:
        return errors
    if backend == FAKE_ACQUIRER:
        errors.append(
            checks.Error(
                "BILLING_ACQUIRER: the fake acquirer credits any amount paid with "
                f"its test cards; use a real acquirer or '{NO_ACQUIRER}' (a "
                "demonstration server runs with DEVELOPMENT=1).",
                id="billing.E004",
            )
        )
    secret = settings.BILLING_ACQUIRER_SECRET or ""
    if weak_secret(secret, MIN_ACQUIRER_SECRET_LENGTH):
        errors.append(
            checks.Error(
                "BILLING_ACQUIRER_SECRET: set the secret the acquirer signs its "
                f"callbacks with (at least {MIN_ACQUIRER_SECRET_LENGTH} characters).",
                id="billing.E002",
            )
        )
    elif settings.SECRET_KEY and settings.SECRET_KEY in secret:
        errors.append(
            checks.Error(
                "BILLING_ACQUIRER_SECRET must be a secret of its own, not derived "
                "from SECRET_KEY.",
                id="billing.E003",
            )
        )
    return errors
