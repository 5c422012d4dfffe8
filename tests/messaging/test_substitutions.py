"""messaging.substitutions: commands whose values an app above the core owns
([couponCode]: promo) are registered from that app's ready(); the renderer and
the send form use whatever is registered and import none of those apps."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from messaging import compose, substitutions
from messaging.models import Campaign
from messaging.rendering import build_renderer, preview_renderer
from messaging.substitutions import Bound, Substitution

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(monkeypatch):
    """The registry, restored after the test."""
    monkeypatch.setattr(substitutions, "_REGISTRY", dict(substitutions._REGISTRY))
    return substitutions


def test_promo_provides_the_coupon_code_at_start_up():
    from promo.substitutions import COUPON_CODE

    assert substitutions.get("couponCode") is COUPON_CODE


def test_a_registered_command_fills_each_recipient_and_flushes(user, registry):
    built, flushed = [], []

    def build(campaign, *, preview):
        built.append((campaign.account_id, preview))
        return Bound(
            piece=lambda fields, mid: f"№{mid}-{fields['phone'][-2:]}",
            on_flush=lambda: flushed.append(True),
        )

    registry.register(Substitution(command="ticket", build=build))
    campaign = Campaign(account=user.account, text="Билет [ Ticket ] ждёт")
    renderer = build_renderer(campaign)
    assert renderer.render({"phone": "+79161234567"}, 7) == "Билет №7-67 ждёт"
    assert built == [(user.account_id, False)]
    renderer.flush()
    assert flushed == [True]
    preview_renderer(account=user.account, text="[ticket]")
    assert built[-1] == (user.account_id, True)


def test_a_command_nobody_provides_stays_as_written(user, registry):
    registry.unregister("couponcode")
    campaign = Campaign(account=user.account, text="Код [couponCode]")
    assert build_renderer(campaign).render({"phone": "+7"}, 1) == "Код [couponCode]"
    # …and the send form offers no promo actions to choose from.
    assert compose.compose_promo_actions(account_id=user.account_id) == []


def test_the_send_form_offers_the_providers_choices(user, other_user, registry):
    from promo.models import PromoAction

    mine = PromoAction.objects.create(account=user.account, name="Осень")
    PromoAction.objects.create(account=other_user.account, name="Чужая")
    PromoAction.objects.create(account=user.account, name="Старая", is_active=False)
    assert compose.compose_promo_actions(account_id=user.account_id) == [mine]


def test_the_preview_shows_a_sample_of_the_actions_code_length(user):
    from promo.models import PromoAction, PromoCode

    action = PromoAction.objects.create(
        account=user.account, name="Осень", code_length=11
    )
    renderer = preview_renderer(
        account=user.account,
        text="Код [couponCode]",
        options={"promo_action": action.pk},
    )
    assert renderer.render({"phone": "+79161234567"}, None) == "Код " + "X" * 11
    assert not PromoCode.objects.exists()
    no_action = preview_renderer(account=user.account, text="Код [couponCode]")
    assert no_action.render({}, None) == "Код XXXXXXXX"


def test_a_taken_or_badly_written_command_is_refused(registry):
    registry.register(Substitution(command="ticket", build=lambda c, preview: None))
    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        registry.register(Substitution(command="ticket", build=lambda c, preview: 1))
    with pytest.raises(ImproperlyConfigured, match="lower-case"):
        registry.register(Substitution(command="Ticket", build=lambda c, preview: 1))
