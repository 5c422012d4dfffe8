import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, Group
from messaging.models import Campaign, Message, MessageTemplate, SenderName

pytestmark = pytest.mark.django_db

URL = "/sms/send/"


def post(client, **data):
    base = {"text": "Привет", "phones": "+79161234567"}
    base.update(data)
    return client.post(URL, base)


def test_the_page_shows_the_manuals_form(client_for, user):
    page = client_for(user).get(URL).content.decode()
    for label in (
        "От:",
        "Подставить",
        "Шаблоны",
        "Количество частей",
        "Осталось символов",
        "Транслитерация СМС",
        "Отправить позже",
        "Плавная отправка",
        "Разрешенное время отправки",
        "Время жизни сообщения",
        "Получать ответ в Online-чат",
        "Сокращать ссылки",
        "Сгенерировать промокод",
        "Получатели",
        "Введите телефоны через Enter",
        "Очистить форму после отправки",
        "Указана примерная длина, без учета подставляемых значений",
        "Тэги",
    ):
        assert label in page, label


def test_date_inputs_carry_iso_dates_in_a_russian_cabinet(client_for, user):
    """<input type="date"> accepts only YYYY-MM-DD: "25.11.2026" would show an
    empty field."""
    import re

    page = client_for(user).get(URL).content.decode()
    tag = re.search(r'<input type="date" name="send_date"[^>]*>', page).group(0)
    assert re.search(r'value="\d{4}-\d{2}-\d{2}"', tag), tag
    reports = client_for(user).get("/reports/?date_from=2026-11-01").content.decode()
    assert 'value="2026-11-01"' in reports


def test_it_sends_to_pasted_numbers(client_for, user):
    resp = post(
        client_for(user), phones="+7 916 123-45-67\n8 903 111 22 33\n+79161234567"
    )
    assert resp.status_code == 302
    campaign = Campaign.objects.get()
    assert sorted(campaign.messages.values_list("phone", flat=True)) == [
        "+79031112233",
        "+79161234567",
    ]
    assert campaign.source == "cabinet"
    # Numbers typed in are priced on the spot: the confirmation is the charge.
    page = client_for(user).get(resp["Location"]).content.decode()
    cost = f"{campaign.cost:.2f}".replace(".", ",")
    assert f"Сообщение принято к отправке. Стоимость: {cost} ₽" in page


def test_it_explains_lines_that_are_not_numbers_and_sends_nothing(client_for, user):
    resp = post(client_for(user), phones="+79161234567\nabc\n12")
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "Не похоже на номер телефона: abc, 12" in body
    assert not Campaign.objects.exists()


def test_it_needs_recipients_and_text(client_for, user):
    resp = client_for(user).post(URL, {"text": " ", "phones": ""})
    body = resp.content.decode()
    assert "Введите текст сообщения." in body
    assert "Добавьте получателей" in body
    assert not Campaign.objects.exists()


def test_it_sends_to_a_group_with_substitutions(client_for, user):
    group = Group.objects.create(account=user.account, name="Клиенты")
    Contact.objects.create(
        account=user.account,
        group=group,
        phone="+79161234567",
        first_name="Иван",
        gender="m",
    )
    Contact.objects.create(
        account=user.account,
        group=group,
        phone="+79031112233",
        first_name="Мария",
        gender="f",
    )
    resp = post(
        client_for(user), phones="", groups=[str(group.pk)], text="[Уважаемый] [Имя]!"
    )
    assert resp.status_code == 302, resp.content.decode()
    texts = dict(Message.objects.values_list("phone", "text"))
    assert texts == {
        "+79161234567": "Уважаемый Иван!",
        "+79031112233": "Уважаемая Мария!",
    }


def test_a_foreign_group_is_not_offered_and_is_rejected(client_for, user, other_user):
    foreign = Group.objects.create(account=other_user.account, name="Чужая")
    client = client_for(user)
    assert "Чужая" not in client.get(URL).content.decode()
    resp = post(client, phones="", groups=[str(foreign.pk)])
    assert resp.status_code == 200
    assert not Campaign.objects.exists()


def test_it_passes_the_options_to_the_engine(client_for, user):
    resp = post(
        client_for(user),
        smooth="on",
        smooth_portions="3",
        smooth_interval="10",
        window="on",
        window_from="09:00",
        window_to="21:00",
        window_weekdays=["1", "2", "3"],
        ttl_on="on",
        ttl="3600",
        transliterate="on",
        shorten_links="on",
        tags="акция, #осень",
        description="Осенняя акция",
    )
    assert resp.status_code == 302, resp.content.decode()
    campaign = Campaign.objects.get()
    assert campaign.options["smooth"] == {"portions": 3, "interval_minutes": 10}
    assert campaign.options["window"] == {
        "from": "09:00",
        "to": "21:00",
        "weekdays": [1, 2, 3],
    }
    assert campaign.options["ttl"] == 3600
    assert campaign.options["transliterate"] is True
    assert campaign.tags == ["акция", "осень"]
    assert campaign.description == "Осенняя акция"
    assert campaign.messages.get().text == "Privet"


def test_send_later_defers_the_campaign(client_for, user):
    when = timezone.now() + timedelta(days=2)
    local = when.astimezone(timezone.get_default_timezone())
    resp = post(
        client_for(user),
        send_later="on",
        send_date=local.strftime("%Y-%m-%d"),
        send_time=local.strftime("%H:%M"),
        send_tz="Europe/Moscow",
    )
    assert resp.status_code == 302, resp.content.decode()
    campaign = Campaign.objects.get()
    assert campaign.send_at is not None and campaign.send_at > timezone.now()
    assert set(campaign.messages.values_list("status", flat=True)) == {"deferred"}


def test_send_later_in_the_past_is_refused(client_for, user):
    resp = post(
        client_for(user),
        send_later="on",
        send_date="2020-01-01",
        send_time="10:00",
        send_tz="Europe/Moscow",
    )
    assert "Время отправки уже прошло." in resp.content.decode()
    assert not Campaign.objects.exists()


def test_ttl_over_twelve_hours_is_refused(client_for, user):
    resp = post(client_for(user), ttl_on="on", ttl="86400")
    assert resp.status_code == 200
    assert not Campaign.objects.exists()


def test_an_unapproved_sender_is_refused(client_for, user):
    SenderName.objects.create(account=user.account, name="MyShop")
    resp = post(client_for(user), sender="MyShop")
    assert resp.status_code == 200
    assert not Campaign.objects.exists()


def test_an_approved_sender_is_offered_and_used(client_for, user):
    SenderName.objects.create(account=user.account, name="MyShop", status="approved")
    client = client_for(user)
    assert '<option value="MyShop"' in client.get(URL).content.decode()
    assert post(client, sender="MyShop").status_code == 302
    assert Campaign.objects.get().sender == "MyShop"


def test_clear_form_returns_to_an_empty_form(client_for, user):
    resp = post(client_for(user), clear_form="on")
    assert resp.status_code == 302 and resp.url == URL


def test_the_estimate_shows_the_price_and_previews(client_for, user):
    group = Group.objects.create(account=user.account, name="Клиенты")
    Contact.objects.create(
        account=user.account,
        group=group,
        phone="+79161234567",
        first_name="Иван",
        gender="m",
    )
    resp = client_for(user).post(
        reverse("messaging:sms_estimate"),
        {
            "text": "Здравствуйте, [Имя]!",
            "groups": [str(group.pk)],
            "phones": "+79031112233",
        },
    )
    body = resp.content.decode()
    assert resp.status_code == 200
    assert "Здравствуйте, Иван!" in body
    assert "Здравствуйте, !" in body  # the pasted number has no name
    assert "₽" in body
    assert not Campaign.objects.exists()


def test_repeat_prefills_the_form(client_for, user):
    client = client_for(user)
    post(client, text="Повтори меня", tags="t1")
    campaign = Campaign.objects.get()
    page = client.get(f"{URL}?repeat={campaign.pk}").content.decode()
    assert "Повтори меня" in page
    assert "+79161234567" in page


def test_repeat_of_a_foreign_campaign_is_404(client_for, user, other_user):
    from messaging import services

    foreign = services.campaign_launch(
        account=other_user.account,
        channel="sms",
        text="secret",
        phones=["+79031112233"],
    )
    assert client_for(user).get(f"{URL}?repeat={foreign.pk}").status_code == 404
    assert client_for(user).get(f"{URL}?repeat=abc").status_code == 404


def test_filters_from_the_phonebook_limit_the_group(client_for, user):
    group = Group.objects.create(account=user.account, name="Клиенты")
    Contact.objects.create(
        account=user.account, group=group, phone="+79161234567", gender="m"
    )
    Contact.objects.create(
        account=user.account, group=group, phone="+79031112233", gender="f"
    )
    resp = post(
        client_for(user),
        phones="",
        groups=[str(group.pk)],
        filters=json.dumps({"gender": "f"}),
    )
    assert resp.status_code == 302, resp.content.decode()
    assert list(Message.objects.values_list("phone", flat=True)) == ["+79031112233"]


def test_save_the_form_as_a_template_and_load_it(client_for, user):
    client = client_for(user)
    resp = client.post(
        URL,
        {
            "text": "Шаблонный текст",
            "phones": "",
            "action": "save_template",
            "mode": "new",
            "template_name": "Акция",
            "tags": "a",
        },
    )
    template = MessageTemplate.objects.get()
    assert resp.status_code == 302 and resp.url.endswith(f"?template={template.pk}")
    assert template.name == "Акция" and template.form["tags"] == ["a"]
    page = client.get(resp.url).content.decode()
    assert "Шаблонный текст" in page
    client.post(
        URL,
        {
            "text": "Новый текст",
            "action": "save_template",
            "mode": "update",
            "template_id": str(template.pk),
        },
    )
    template.refresh_from_db()
    assert template.text == "Новый текст"
    assert MessageTemplate.objects.count() == 1
    assert not Campaign.objects.exists()


def test_a_foreign_template_is_404(client_for, user, other_user):
    foreign = MessageTemplate.objects.create(
        account=other_user.account, name="x", text="y"
    )
    client = client_for(user)
    assert client.get(f"{URL}?template={foreign.pk}").status_code == 404
    resp = client.post(
        URL,
        {
            "text": "t",
            "action": "save_template",
            "mode": "update",
            "template_id": str(foreign.pk),
        },
    )
    assert resp.status_code == 200  # not among the choices: a form error
    foreign.refresh_from_db()
    assert foreign.text == "y"


def test_readonly_user_sees_but_cannot_send(client_for, user, make_user):
    reader = make_user(account=user.account, role="readonly")
    client = client_for(reader)
    assert client.get(URL).status_code == 200
    assert post(client).status_code == 403
    assert not Message.objects.exists()


def test_the_promo_picker_has_a_clear_empty_state(client_for, user):
    page = client_for(user).get(URL).content.decode()
    assert "Пока не создано ни одной акции" in page
    resp = post(client_for(user), promo="on", text="Код [couponCode]")
    assert "Выберите промо-акцию." in resp.content.decode()
    assert not Campaign.objects.exists()


def test_a_promo_action_issues_a_code_per_recipient(client_for, user, other_user):
    from promo.models import PromoAction, PromoCode

    action = PromoAction.objects.create(
        account=user.account, name="Осень", code_length=8
    )
    foreign = PromoAction.objects.create(account=other_user.account, name="Чужая")
    client = client_for(user)
    page = client.get(URL).content.decode()
    assert "Осень" in page and "Чужая" not in page
    resp = post(
        client, promo="on", promo_action=str(foreign.pk), text="Код [couponCode]"
    )
    assert resp.status_code == 200 and not Campaign.objects.exists()
    resp = post(client, promo="on", promo_action=str(action.pk), text="Без кода")
    assert "[couponCode]" in resp.content.decode() and not Campaign.objects.exists()
    resp = post(
        client,
        promo="on",
        promo_action=str(action.pk),
        text="Ваш код [couponCode]",
        phones="+79161234567\n+79031112233",
    )
    assert resp.status_code == 302, resp.content.decode()
    campaign = Campaign.objects.get()
    assert campaign.options["promo_action"] == action.pk
    codes = set(PromoCode.objects.filter(action=action).values_list("code", flat=True))
    assert len(codes) == 2
    for text in campaign.messages.values_list("text", flat=True):
        assert text.split()[-1] in codes


def test_the_chat_link_and_short_links_are_shown_in_the_preview(client_for, user):
    resp = client_for(user).post(
        reverse("messaging:sms_estimate"),
        {
            "text": "Сайт https://shop.example/very/long/path",
            "phones": "+79161234567",
            "shorten_links": "on",
            "chat_link": "on",
        },
    )
    body = resp.content.decode()
    assert "/s/xxxxxxxxxxxxxxx" in body and "very/long/path" not in body


def test_the_estimate_explains_bad_input(client_for, user):
    resp = client_for(user).post(reverse("messaging:sms_estimate"), {"text": ""})
    assert "Введите текст сообщения." in resp.content.decode()


def test_a_single_number_may_be_posted_as_phone(client_for, user):
    resp = client_for(user).post(URL, {"text": "Привет", "phone": "+79161234567"})
    assert resp.status_code == 302
    assert Message.objects.get().phone == "+79161234567"


def test_a_double_submit_is_two_posts_but_the_form_is_clean(client_for, user):
    client = client_for(user)
    assert post(client).status_code == 302
    # The send page after a send is an empty form (no resubmission of state).
    assert "Привет" not in client.get(URL).content.decode()


def test_list_pages_have_pinned_query_counts(
    client_for, user, django_assert_max_num_queries
):
    from messaging.models import Greeting, ModerationTemplate, Schedule

    client = client_for(user)
    for i in range(15):
        MessageTemplate.objects.create(account=user.account, name=f"t{i}", text="x")
        SenderName.objects.create(account=user.account, name=f"Shop{i}")
        ModerationTemplate.objects.create(
            account=user.account, text=f"Код {i}: [любая фраза]"
        )
        Schedule.objects.create(
            account=user.account,
            name=f"s{i}",
            minutes=[0],
            hours=[9],
            payload={"text": "x"},
        )
        Greeting.objects.create(
            account=user.account,
            occasion=f"g{i}",
            send_time="10:00",
            payload={"text": "x"},
        )
    for url in (
        "/sms/templates/",
        "/sms/senders/",
        "/sms/moderation-templates/",
        "/sms/scheduler/",
        "/sms/greetings/",
        "/sms/send/",
        "/sms/advertising/",
    ):
        with django_assert_max_num_queries(14):
            assert client.get(url).status_code == 200


def test_the_forms_own_group_filter(client_for, user):
    from datetime import date

    group = Group.objects.create(account=user.account, name="Клиенты")
    today = timezone.localdate()
    Contact.objects.create(
        account=user.account,
        group=group,
        phone="+79161234567",
        gender="f",
        birth_date=date(today.year - 30, 1, 1),
        consent=True,
    )
    Contact.objects.create(
        account=user.account,
        group=group,
        phone="+79031112233",
        gender="f",
        birth_date=date(today.year - 60, 1, 1),
        consent=True,
    )
    Contact.objects.create(
        account=user.account,
        group=group,
        phone="+79261112233",
        gender="m",
        birth_date=date(today.year - 30, 1, 1),
    )
    client = client_for(user)
    bad = post(
        client, phones="", groups=[str(group.pk)], f_age_min="50", f_age_max="20"
    )
    assert "«Возраст до» меньше" in bad.content.decode()
    resp = post(
        client,
        phones="",
        groups=[str(group.pk)],
        f_gender="f",
        f_age_max="40",
        f_consent="yes",
    )
    assert resp.status_code == 302, resp.content.decode()
    campaign = Campaign.objects.get()
    assert campaign.audience["filters"] == {
        "gender": "f",
        "age_max": 40,
        "consent": "yes",
    }
    assert list(campaign.messages.values_list("phone", flat=True)) == ["+79161234567"]
    page = client.get(f"{URL}?repeat={campaign.pk}").content.decode()
    assert 'name="f_age_max" value="40"' in page


def test_a_double_submit_launches_once(client_for, user):
    import re

    client = client_for(user)
    page = client.get(URL).content.decode()
    token = re.search(r'name="submit_token" value="([0-9a-f]{32})"', page).group(1)
    assert post(client, submit_token=token).status_code == 302
    assert post(client, submit_token=token).status_code == 302
    assert Campaign.objects.count() == 1
    assert Message.objects.count() == 1
    assert post(client, submit_token="forged'token").status_code == 200
    assert Campaign.objects.count() == 1


def test_a_new_accounts_send_goes_to_moderation_with_a_clear_message(
    client_for, make_user
):
    newbie = make_user("newbie@example.com", trusted=False)
    resp = post(client_for(newbie), text="Привет")
    assert resp.status_code == 302
    assert Campaign.objects.get().status == "moderation"
    page = client_for(newbie).get(resp.url).content.decode()
    assert "отправлена на модерацию" in page


def test_the_preview_shows_each_number_once_as_it_will_be_sent(user):
    """A number both pasted and in a chosen group is sent once, with the pasted
    line's text: the preview says the same."""
    from messaging import compose

    group = Group.objects.create(account=user.account, name="Клиенты")
    for phone, name in (("+79161234567", "Иван"), ("+79031112233", "Мария")):
        Contact.objects.create(
            account=user.account, group=group, phone=phone, first_name=name
        )
    payload = {
        "text": "Здравствуйте, [Имя]!",
        "phones": ["+79161234567"],
        "group_ids": [group.pk],
        "options": {},
    }
    rows = compose.compose_preview(account=user.account, payload=payload)
    assert [(r.phone, r.text) for r in rows] == [
        ("+79161234567", "Здравствуйте, !"),
        ("+79031112233", "Здравствуйте, Мария!"),
    ]
    payload["options"] = {"allow_duplicates": True}
    rows = compose.compose_preview(account=user.account, payload=payload)
    assert [r.phone for r in rows].count("+79161234567") == 2


def test_the_preview_warns_how_many_recipients_lack_the_substituted_fields(
    client_for, user, other_user
):
    from contacts.models import CustomField

    CustomField.objects.create(account=user.account, key="card", name="Номер карты")
    group = Group.objects.create(account=user.account, name="Клиенты")
    Contact.objects.create(
        account=user.account,
        group=group,
        phone="+79161234567",
        first_name="Иван",
        extra={"card": "77"},
    )
    for i in range(3):
        Contact.objects.create(
            account=user.account, group=group, phone=f"+7916765432{i}", extra={}
        )
    Contact.objects.create(
        account=user.account, group=group, phone="+79167654329", first_name="Анна"
    )
    # Another account's nameless contacts never count.
    theirs = Group.objects.create(account=other_user.account, name="Чужие")
    Contact.objects.create(
        account=other_user.account, group=theirs, phone="+79161111111"
    )
    resp = client_for(user).post(
        reverse("messaging:sms_estimate"),
        {
            "text": "[Уважаемый] [Имя]! Карта [Номер карты], скидка",
            "groups": [str(group.pk)],
            "phones": "+79031112233",
        },
    )
    body = resp.content.decode()
    warning = re.search(r'id="substitution-gaps">(.*?)</li>', body, re.S).group(1)
    text = " ".join(re.sub(r"<[^>]+>", "", warning).split())
    assert text == (
        "Не у всех получателей заполнены поля для подстановки: "
        "[Имя] — нет у 4 получателей; [Номер карты] — нет у 5 получателей. "
        "Тем, у кого нет имени, обращение заменится на «Здравствуйте»."
    )
    # …and the preview shows the greeting they get.
    assert "Здравствуйте! Карта" in body


def test_no_warning_when_everyone_has_the_fields(client_for, user):
    group = Group.objects.create(account=user.account, name="Клиенты")
    Contact.objects.create(
        account=user.account, group=group, phone="+79161234567", first_name="Иван"
    )
    body = (
        client_for(user)
        .post(
            reverse("messaging:sms_estimate"),
            {"text": "[Имя], скидка", "groups": [str(group.pk)]},
        )
        .content.decode()
    )
    assert "substitution-gaps" not in body


def test_one_nameless_recipient_is_one(client_for, user):
    body = (
        client_for(user)
        .post(
            reverse("messaging:sms_estimate"),
            {"text": "[Имя], скидка", "phones": "+79161234567"},
        )
        .content.decode()
    )
    assert "нет у 1 получателя" in body
    assert "У них на месте подстановки будет пусто." in body
