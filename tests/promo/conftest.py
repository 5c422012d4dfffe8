import pytest


@pytest.fixture
def make_action(db):
    from promo.services import action_create

    def make(account, **kw):
        values = {
            "name": "Скидка 10%",
            "code_length": 6,
            "valid_days": 30,
            "instruction": "Выдайте скидку 10% на весь чек.",
        }
        values.update(kw)
        return action_create(account_id=account.pk, **values)

    return make


@pytest.fixture
def action(user, make_action):
    return make_action(user.account)


@pytest.fixture
def issue_codes():
    """Issue ``n`` codes of an action to fake phones (no messages) and flush."""
    from promo.services import PromoCodeIssuer

    def issue(action, n=1, phone_prefix="+7916000", campaign_id=None):
        issuer = PromoCodeIssuer(
            account_id=action.account_id, action_id=action.pk, campaign_id=campaign_id
        )
        codes = [
            issuer.issue(phone=f"{phone_prefix}{i:04d}", message_id=None)
            for i in range(n)
        ]
        issuer.flush()
        return codes

    return issue


@pytest.fixture
def make_manager(db):
    from promo.services import manager_create

    def make(account, login="clerk", password="clerk-pass-1", name="Анна"):
        return manager_create(
            account_id=account.pk, name=name, login=login, password=password
        )

    return make


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Manager passwords are hashed like cabinet users'; a fast hasher keeps the
    # many sign-ins of these tests quick (production uses the default PBKDF2).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
