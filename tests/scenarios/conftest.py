import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


VIBER_SMS = [
    {
        "channel": "viber",
        "text": "Скидка 20% только сегодня",
        "decision": 600,
    },
    {"channel": "sms", "text": "Скидка 20% только сегодня", "decision": 600},
]


@pytest.fixture
def viber_sms(user):
    from scenarios.services import scenario_save

    return scenario_save(account=user.account, name="Viber → SMS", steps=VIBER_SMS)


@pytest.fixture(autouse=True)
def _viber_misses_plain_numbers(settings):
    """The fake Viber: numbers outside its fixed patterns are not Viber users
    (…4444 is delivered and seen; SMS delivers them)."""
    from messaging import registry

    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        "viber": {
            **settings.MESSAGING_GATEWAYS["viber"],
            "OPTIONS": {
                "mode": "instant",
                "receipt_delay_seconds": 0,
                "rates": {"not_viber_user": 1.0},
            },
        },
    }
    registry.reset_gateways()
