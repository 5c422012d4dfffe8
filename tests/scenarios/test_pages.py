"""The scenario pages: list, new (own or a template), the builder's save with
the channel's own validation, copy and delete, the launch with the cost
before it, a run's report; bad input is a clear error and nothing changes."""

import json

import pytest
from django.urls import reverse

from messaging.models import Campaign, GatewaySubmission
from scenarios.models import Run, Scenario

from .conftest import VIBER_SMS

pytestmark = pytest.mark.django_db


def post_chain(client, steps, *, name="Акция", url=None):
    blocks = []
    for s in steps:
        b = {k: v for k, v in s.items() if k != "decision"}
        if "decision" in s:
            b["decision_minutes"] = s["decision"] / 60
        blocks.append(b)
    return client.post(
        url or reverse("scenarios:build"), {"name": name, "steps": json.dumps(blocks)}
    )


def test_list_new_and_templates(client_for, user):
    client = client_for(user)
    assert "Мои сценарии" in client.get(reverse("scenarios:list")).content.decode()
    page = client.get(reverse("scenarios:create")).content.decode()
    assert "Создать свой сценарий" in page
    assert "Использовать готовый шаблон" in page
    assert "Viber → SMS" in page and "CallPassword → SMS" in page
    # VK/OK templates appear only when their channels are registered (social/).
    assert "VK → SMS" in page and "OK → SMS" in page
    builder = client.get(reverse("scenarios:build") + "?template=viber-sms")
    html = builder.content.decode()
    assert html.count('class="scenario-block card"') == 2 + len(
        __import__("messaging.registry", fromlist=["x"]).all_channels()
    )  # two blocks of the chain + one <template> per palette channel
    assert "Время принятия решения" in html
    assert "sortable.min.js" in html


def test_builder_saves_a_valid_chain(client_for, user):
    client = client_for(user)
    response = post_chain(client, VIBER_SMS)
    scenario = Scenario.objects.get(account=user.account)
    assert response.status_code == 302
    assert [b["channel"] for b in scenario.steps] == ["viber", "sms"]
    assert scenario.steps[0]["decision"] == 600
    assert scenario.steps[0]["options"]["ttl"] == 600


@pytest.mark.parametrize(
    "steps, error",
    [
        ([], "Добавьте в сценарий хотя бы один блок"),
        (
            [{"channel": "sms", "text": "Привет", "decision": 30}],
            "Время принятия решения — от 1 минуты до 48 часов",
        ),
        (
            [{"channel": "sms", "text": "", "decision": 600}],
            "Введите текст сообщения",
        ),
        (
            [
                {
                    "channel": "sms",
                    "text": "Привет",
                    "sender": "NotMine",
                    "decision": 600,
                }
            ],
            "Блок 1",
        ),
        (
            [
                {
                    "channel": "callpassword",
                    "content": {"code": "1234"},
                    "decision": 600,
                },
                {"channel": "viber", "text": "Код 1234", "decision": 600},
            ],
            "После блока CallPassword могут идти только блоки SMS",
        ),
        (
            [{"channel": "telegram", "text": "Привет", "decision": 600}],
            "Канал «telegram» недоступен",
        ),
        (
            [{"channel": "viber", "text": "x" * 1001, "decision": 600}],
            "Блок 1",
        ),
    ],
)
def test_bad_chains_are_refused_with_a_clear_error(client_for, user, steps, error):
    client = client_for(user)
    response = post_chain(client, steps)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Scenario.objects.exists()


def test_ttl_longer_than_the_decision_time_is_refused_and_explained(client_for, user):
    client = client_for(user)
    steps = [
        {"channel": "viber", "text": "Привет", "decision": 600, "ttl_minutes": 30},
        {"channel": "sms", "text": "Привет", "decision": 600},
    ]
    response = post_chain(client, steps)
    assert response.status_code == 400
    assert "больше времени принятия решения" in response.content.decode()
    assert not Scenario.objects.exists()


def test_garbage_steps_json_is_an_error(client_for, user):
    client = client_for(user)
    response = client.post(reverse("scenarios:build"), {"name": "x", "steps": "{nope"})
    assert response.status_code == 400
    assert "Сценарий задан неверно" in response.content.decode()


def test_copy_and_delete(client_for, user, viber_sms):
    client = client_for(user)
    client.post(reverse("scenarios:copy", args=[viber_sms.pk]))
    assert Scenario.objects.filter(account=user.account).count() == 2
    client.post(reverse("scenarios:delete", args=[viber_sms.pk]))
    assert list(Scenario.objects.values_list("name", flat=True)) == [
        "Копия: Viber → SMS"
    ]


def test_launch_shows_the_cost_then_runs(client_for, user, viber_sms):
    client = client_for(user)
    url = reverse("scenarios:launch", args=[viber_sms.pk])
    quote = client.post(
        url, {"phones": "+79161234444\n+79161230005", "action": "quote"}
    )
    html = quote.content.decode()
    assert quote.status_code == 200
    for label in ("В худшем случае", "Ожидаемо", "Только SMS"):
        assert label in html
    assert not Campaign.objects.exists()
    response = client.post(
        url, {"phones": "+79161234444\n+79161230005", "action": "launch"}
    )
    run = Run.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("scenarios:run", args=[run.pk])
    page = client.get(response.url).content.decode()
    assert "Экономия" in page and "Каким шагом доставлено" in page
    assert "+79161230005" in page
    assert GatewaySubmission.objects.count() == 3


def test_a_launch_that_cannot_be_paid_sends_nothing(client_for, make_user):
    poor = make_user("poor@example.com", balance=0)
    from scenarios.services import scenario_save

    scenario = scenario_save(account=poor.account, name="x", steps=VIBER_SMS)
    client = client_for(poor)
    response = client.post(
        reverse("scenarios:launch", args=[scenario.pk]),
        {"phones": "+79161234444", "action": "launch"},
    )
    assert response.status_code == 400
    assert "Недостаточно средств" in response.content.decode()
    assert not Run.objects.exists() and not Campaign.objects.exists()


def test_launch_without_recipients_is_an_error(client_for, user, viber_sms):
    client = client_for(user)
    response = client.post(
        reverse("scenarios:launch", args=[viber_sms.pk]), {"action": "launch"}
    )
    assert response.status_code == 400
    assert "Добавьте получателей" in response.content.decode()
    assert not Run.objects.exists()


def test_another_accounts_scenario_and_run_are_404(
    client_for, user, other_user, viber_sms
):
    from scenarios.services import run_launch

    run = run_launch(account=user.account, scenario=viber_sms, phones=["+79161234444"])
    client = client_for(other_user)
    for name, pk, method in (
        ("scenarios:edit", viber_sms.pk, "get"),
        ("scenarios:launch", viber_sms.pk, "get"),
        ("scenarios:copy", viber_sms.pk, "post"),
        ("scenarios:delete", viber_sms.pk, "post"),
        ("scenarios:run", run.pk, "get"),
        ("scenarios:run_cancel", run.pk, "post"),
    ):
        assert getattr(client, method)(reverse(name, args=[pk])).status_code == 404
    assert Scenario.objects.filter(pk=viber_sms.pk).exists()
    assert "Viber → SMS" not in client.get(reverse("scenarios:list")).content.decode()


def test_runs_appear_in_the_channels_reports_as_sending_method_scenario(
    client_for, user, viber_sms
):
    from scenarios.services import run_launch

    run_launch(account=user.account, scenario=viber_sms, phones=["+79161230005"])
    client = client_for(user)
    for channel in ("viber", "sms"):
        campaign = Campaign.objects.get(channel=channel)
        assert campaign.source == "scenario"
        page = client.get(
            reverse("reports:channel_campaigns", args=[channel]),
            {"source": "scenario"},
        ).content.decode()
        assert "Сценарий" in page
        assert f"/{campaign.pk}/" in page
