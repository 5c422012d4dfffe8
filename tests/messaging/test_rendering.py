from datetime import date

import pytest

from contacts.models import Contact, CustomField, Group
from messaging import services
from messaging.models import Campaign
from messaging.rendering import Renderer, build_renderer

pytestmark = pytest.mark.django_db

IVAN = {
    "phone": "+79161234567",
    "first_name": "Иван",
    "last_name": "Петров",
    "middle_name": "Сергеевич",
    "gender": "m",
    "birth_date": date(1990, 5, 3),
    "email": "ivan@example.com",
    "operator": "МТС",
    "country": "RU",
    "region": "Москва",
    "extra": {"card": "A-100"},
}
MARIA = {"phone": "+79031112233", "first_name": "Мария", "gender": "f", "extra": {}}


def test_contact_fields_and_salutations():
    r = Renderer(
        "[Уважаемый] [Имя] [Отчество]! [ФИО], [Дата рождения], [Email], "
        "[Номер телефона], [Мобильный оператор], [Страна], [Регион], [Пол]"
    )
    assert r.render(IVAN, 1) == (
        "Уважаемый Иван Сергеевич! Петров Иван Сергеевич, 03.05.1990, "
        "ivan@example.com, +79161234567, МТС, Россия, Москва, мужской"
    )
    # No middle name: no gap before the «!».
    assert r.render(MARIA, 2).startswith("Уважаемая Мария!")


def test_dear_and_custom_salutations_by_gender():
    r = Renderer("[Дорогой] [i]! [Обращение:Милый/Милая]")
    assert r.render(IVAN, 1) == "Дорогой Иван! Милый"
    assert r.render(MARIA, 1) == "Дорогая Мария! Милая"
    # No name: a neutral greeting, not «Дорогой !».
    assert r.render({"phone": "+7"}, 1) == "Здравствуйте! Милый"


def test_custom_fields_by_key_and_by_name():
    r = Renderer(
        "Карта [card] / [Номер карты] / [unknown]",
        custom_fields={"card": "card", "номер карты": "card"},
    )
    assert r.render(IVAN, 1) == "Карта A-100 / A-100 / [unknown]"


def test_a_static_text_is_rendered_once_and_transliterated():
    r = Renderer("Привет  всем", transliterate_text=True)
    assert r.static and r.render({}, None) == "Privet vsem"


def test_build_renderer_reads_the_custom_fields_of_the_account(user, other_user):
    CustomField.objects.create(account=user.account, key="card", name="Номер карты")
    CustomField.objects.create(account=other_user.account, key="bonus", name="Бонус")
    campaign = Campaign(account=user.account, text="[Номер карты] [bonus]", options={})
    r = build_renderer(campaign, preview=True)
    assert r.render(IVAN, None) == "A-100 [bonus]"


def test_a_group_campaign_personalises_each_message(user):
    group = Group.objects.create(account=user.account, name="g")
    CustomField.objects.create(account=user.account, key="card", name="Номер карты")
    Contact.objects.create(
        account=user.account,
        group=group,
        phone="+79161234567",
        first_name="Иван",
        gender="m",
        extra={"card": "77"},
    )
    campaign = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="[Уважаемый] [Имя], карта [Номер карты]",
        group_ids=[group.pk],
    )
    assert campaign.messages.get().text == "Уважаемый Иван, карта 77"


def test_promo_codes_are_issued_per_message_and_flushed(user):
    from promo.models import PromoAction, PromoCode

    action = PromoAction.objects.create(
        account=user.account, name="Осень", code_length=6
    )
    campaign = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="Ваш код [couponCode]",
        phones=["+79161234567", "+79031112233"],
        options={"promo_action": action.pk},
    )
    texts = {m.phone: m.text for m in campaign.messages.all()}
    codes = {phone: text.split()[-1] for phone, text in texts.items()}
    assert len(set(codes.values())) == 2
    assert all(len(c) == 6 for c in codes.values())
    stored = dict(PromoCode.objects.filter(action=action).values_list("phone", "code"))
    assert stored == codes


def test_recipients_with_their_own_text_keep_it(user):
    from messaging.services import Recipient

    campaign = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="Общий текст",
        recipients=[
            Recipient(phone="+79161234567", text="Свой текст"),
            Recipient(phone="+79031112233"),
        ],
    )
    assert dict(campaign.messages.values_list("phone", "text")) == {
        "+79161234567": "Свой текст",
        "+79031112233": "Общий текст",
    }


@pytest.mark.parametrize(
    ("text", "fields", "expected"),
    [
        ("[Уважаемый] [Имя]! Скидка 20%", {"phone": "+7"}, "Здравствуйте! Скидка 20%"),
        (
            "[Уважаемый] [Имя]! Скидка 20%",
            {"first_name": " "},
            "Здравствуйте! Скидка 20%",
        ),
        (
            "[Уважаемый] [Имя]! Скидка",
            {"first_name": "Анна", "gender": "f"},
            "Уважаемая Анна! Скидка",
        ),
        (
            "[Уважаемый] [Имя] [Отчество], привет",
            {"middle_name": "Ильич"},
            "Уважаемый Ильич, привет",
        ),
        ("[Дорогая] [ФИО]!", {}, "Здравствуйте!"),
        (
            "[Обращение:Милый/Милая] [i]!",
            {"first_name": "Оля", "gender": "f"},
            "Милая Оля!",
        ),
        ("[Обращение:Милый/Милая] [i]!", {}, "Здравствуйте!"),
        # Not a greeting by name: the salutation stays as written.
        ("[Уважаемый] клиент [Имя]!", {}, "Уважаемый клиент !"),
        ("[Уважаемый]\n[Имя]", {}, "Уважаемый\n"),
    ],
)
def test_a_salutation_without_a_name_becomes_a_neutral_greeting(text, fields, expected):
    assert Renderer(text).render(fields, None) == expected


def test_a_group_campaign_greets_contacts_without_a_name_neutrally(user):
    group = Group.objects.create(account=user.account, name="g")
    Contact.objects.create(
        account=user.account, group=group, phone="+79161234567", first_name="Иван"
    )
    Contact.objects.create(account=user.account, group=group, phone="+79031112233")
    campaign = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="[Уважаемый] [Имя]! Скидка 20%",
        group_ids=[group.pk],
    )
    texts = dict(campaign.messages.values_list("phone", "text"))
    assert texts == {
        "+79161234567": "Уважаемый Иван! Скидка 20%",
        "+79031112233": "Здравствуйте! Скидка 20%",
    }
