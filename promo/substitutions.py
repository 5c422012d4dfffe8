"""``[couponCode]`` in a campaign's text: a fresh promo code per recipient.

The promo app provides the command to the messaging renderer through
``messaging.substitutions`` (registered in ``PromoConfig.ready()``), so the
messaging core never imports promo."""

from messaging.rendering import COUPON
from messaging.substitutions import Bound, Substitution

from .selectors import promo_actions
from .services import PromoCodeIssuer

SAMPLE_LENGTH = 8


def sample_code(account_id: int, action_id) -> str:
    """A code of the promo action's length (previews and estimates)."""
    length = SAMPLE_LENGTH
    try:
        wanted = int(action_id) if action_id else None
    except (TypeError, ValueError):
        wanted = None
    if wanted is not None:
        for action in promo_actions(account_id=account_id):
            if action.pk == wanted:
                length = action.code_length or length
    return "X" * int(length)


def coupon_code(campaign, *, preview: bool) -> Bound:
    """Codes of the campaign's promo action (``options["promo_action"]``);
    a sample of the code's length for a preview or when no action is chosen."""
    action_id = (campaign.options or {}).get("promo_action")
    if action_id and not preview:
        issuer = PromoCodeIssuer(
            account_id=campaign.account_id,
            action_id=int(action_id),
            campaign_id=campaign.pk,
        )
        return Bound(
            piece=lambda fields, mid: issuer.issue(
                phone=fields.get("phone", ""), message_id=mid
            ),
            on_flush=issuer.flush,
        )
    sample = sample_code(campaign.account_id, action_id)
    return Bound(piece=lambda fields, mid: sample)


def action_choices(account_id: int) -> list:
    """The send form's «Промо-акция» picker: the account's active actions."""
    return promo_actions(account_id=account_id)


COUPON_CODE = Substitution(command=COUPON, build=coupon_code, choices=action_choices)
