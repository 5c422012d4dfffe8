"""Every bad input of the issue is a clear Russian error — nothing charged,
nothing sent — whether it comes through the engine, the send form or REST."""

from decimal import Decimal

import pytest

from billing.selectors import ledger_sum
from cabinet.models import Account
from messaging import services
from messaging.models import Campaign, GatewaySubmission

from .conftest import picture, upload

pytestmark = pytest.mark.django_db

BUTTON = {"button_text": "Купить", "button_url": "https://shop.example.com"}


def nothing_happened(user, balance=Decimal("1000")):
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == balance == ledger_sum(account_id=account.pk)
    assert not Campaign.objects.filter(account=account).exists()
    assert not GatewaySubmission.objects.exists()


@pytest.mark.parametrize(
    "text,content,field,says",
    [
        ("Привет", {"button_text": "Купить"}, "button_url", "ссылку для кнопки"),
        ("Привет", {"button_url": "https://a.ru"}, "button_text", "текст кнопки"),
        (
            "Привет",
            {"button_text": "Купить", "button_url": "javascript:alert(1)"},
            "button_url",
            "http:// или https://",
        ),
        (
            "Привет",
            {"button_text": "Купить", "button_url": "JaVaScRiPt:alert(1)"},
            "button_url",
            "http:// или https://",
        ),
        (
            "Привет",
            {"button_text": "Купить", "button_url": "https://"},
            "button_url",
            "указана неверно",
        ),
        (
            "Привет",
            {"button_text": "К" * 31, **{"button_url": "https://a.ru"}},
            "button_text",
            "30 символов",
        ),
        ("x" * 1001, {}, "text", "1000 символов"),
        ("", BUTTON, "text", "только вместе с текстом"),
        ("Привет", {"colour": "red"}, "content", "Неизвестные поля"),
        ("Привет", {"image": 12}, "image", "строкой"),
        ("Привет", {"image": "0" * 32}, "image", "Изображение не найдено"),
    ],
)
def test_bad_content_is_refused(user, text, content, field, says):
    with pytest.raises(services.LaunchError) as refused:
        services.campaign_launch(
            account=user.account,
            channel="viber",
            text=text,
            content=content,
            phones=["+79161234567"],
        )
    assert refused.value.field == field
    assert says in refused.value.message
    nothing_happened(user)


def test_an_image_with_text_needs_a_button(user, image_of):
    image = image_of(user)
    with pytest.raises(services.LaunchError) as refused:
        services.campaign_launch(
            account=user.account,
            channel="viber",
            text="Привет",
            content={"image": image.public_id},
            phones=["+79161234567"],
        )
    assert "только вместе с кнопкой" in refused.value.message
    nothing_happened(user)


def test_another_accounts_image_is_not_found(user, other_user, image_of):
    theirs = image_of(other_user)
    with pytest.raises(services.LaunchError) as refused:
        services.campaign_launch(
            account=user.account,
            channel="viber",
            text="",
            content={"image": theirs.public_id},
            phones=["+79161234567"],
        )
    assert refused.value.message == "Изображение не найдено: загрузите его ещё раз."
    nothing_happened(user)


def test_an_account_that_cannot_pay_sends_nothing(make_user):
    poor = make_user("poor@example.com", balance=Decimal("1.00"))
    with pytest.raises(services.LaunchError) as refused:
        services.campaign_launch(
            account=poor.account,
            channel="viber",
            text="Привет",
            phones=["+79161234567", "+79161234568"],
        )
    assert refused.value.code == "insufficient_funds"
    assert "Недостаточно средств" in refused.value.message
    nothing_happened(poor, Decimal("1.00"))


def test_an_own_name_not_yet_approved_is_refused(rich_user, own_name):
    own_name(rich_user, "NewShop", approve=False)
    with pytest.raises(services.LaunchError) as refused:
        services.campaign_launch(
            account=rich_user.account,
            channel="viber",
            text="Привет",
            sender="NewShop",
            phones=["+79161234567"],
        )
    assert "ещё на модерации" in refused.value.message
    nothing_happened(rich_user, Decimal("100000"))


def test_an_own_name_with_an_expired_package_is_refused(rich_user, own_name):
    from datetime import timedelta

    from viber.models import SenderPackage

    name = own_name(rich_user, "OldShop")
    package = SenderPackage.objects.get(sender_name=name)
    past_end = package.starts_on - timedelta(days=1)
    SenderPackage.objects.filter(pk=package.pk).update(
        starts_on=past_end.replace(day=1), ends_on=past_end
    )
    balance = Account.objects.get(pk=rich_user.account_id).balance
    with pytest.raises(services.LaunchError) as refused:
        services.campaign_launch(
            account=rich_user.account,
            channel="viber",
            text="Привет",
            sender="OldShop",
            phones=["+79161234567"],
        )
    assert "закончился" in refused.value.message
    assert refused.value.field == "sender"
    assert Account.objects.get(pk=rich_user.account_id).balance == balance
    assert not Campaign.objects.filter(account=rich_user.account).exists()


@pytest.mark.parametrize(
    "data,says",
    [
        (b"this is not an image at all", "не является изображением"),
        (picture(fmt="GIF"), "Формат GIF не поддерживается"),
        (picture(fmt="BMP"), "Формат BMP не поддерживается"),
        (picture(width=20, height=20), "не меньше 50"),
        (b"\xff\xd8\xff" + b"\x00" * 100, "не является изображением"),
    ],
)
def test_bad_images_are_refused_and_not_stored(user, data, says):
    from viber.images import InvalidImage, image_upload
    from viber.models import ViberImage

    with pytest.raises(InvalidImage) as refused:
        image_upload(account=user.account, upload=upload(data))
    assert says in refused.value.message
    assert not ViberImage.objects.exists()
