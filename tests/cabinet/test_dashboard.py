"""cabinet.dashboard: the apps put their widgets on «Главная»; the cabinet
reads no other app's data."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from cabinet import dashboard
from cabinet.dashboard import Widget

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget(settings, tmp_path, monkeypatch):
    """A widget of a pretend app, with its own template."""
    (tmp_path / "test_widget.html").write_text(
        '<div class="card" id="test-widget">{{ data.greeting }} №{{ data.account }}'
        "</div>"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}
    ]
    monkeypatch.setattr(dashboard, "_WIDGETS", dict(dashboard._WIDGETS))
    return dashboard.register(
        Widget(
            key="test.greeting",
            template="test_widget.html",
            data=lambda request: {"greeting": "Привет", "account": request.account.pk},
        )
    )


def test_a_registered_widget_is_on_the_dashboard_with_its_data(
    client_for, user, widget
):
    page = client_for(user).get(reverse("cabinet:dashboard")).content.decode()
    assert f'<div class="card" id="test-widget">Привет №{user.account_id}</div>' in page


def test_the_messaging_app_puts_its_campaigns_on_the_dashboard(client_for, user):
    from messaging.services import campaign_launch

    keys = [w.key for w in dashboard.widgets()]
    assert keys[:2] == ["messaging.quick_send", "messaging.recent_campaigns"]
    campaign_launch(
        account=user.account, channel="sms", text="Скидки", phones=["+79161234567"]
    )
    page = client_for(user).get(reverse("cabinet:dashboard")).content.decode()
    assert "Отправить СМС" in page and "Последние рассылки" in page
    assert "Скидки" in page


def test_a_foreign_account_campaign_is_not_on_my_dashboard(
    client_for, user, other_user
):
    from messaging.services import campaign_launch

    campaign_launch(
        account=other_user.account,
        channel="sms",
        text="Чужая рассылка",
        phones=["+79161234567"],
    )
    page = client_for(user).get(reverse("cabinet:dashboard")).content.decode()
    assert "Чужая рассылка" not in page and "Рассылок пока нет" in page


def test_a_key_taken_by_another_widget_or_an_unknown_area_is_refused(widget):
    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        dashboard.register(Widget(key="test.greeting", template="other.html"))
    with pytest.raises(ImproperlyConfigured, match="area"):
        dashboard.register(Widget(key="test.x", template="x.html", area="sidebar"))
    dashboard.register(widget)  # the same widget again is harmless
