"""The left menu: every section of the manual.

Each item names the URL it will live at.  Until an app registers that URL the
item links to a plain "в разработке" page, so the menu never has a broken link.
"""

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class MenuItem:
    slug: str
    label: str
    url_name: str = ""

    def href(self) -> str:
        if self.url_name:
            try:
                return reverse(self.url_name)
            except NoReverseMatch:
                pass
        return reverse("cabinet:in_development", args=[self.slug])


@dataclass(frozen=True)
class MenuSection:
    slug: str
    label: str
    icon: str
    items: tuple[MenuItem, ...] = field(default_factory=tuple)


MENU: tuple[MenuSection, ...] = (
    MenuSection(
        "contacts",
        _("Контакты"),
        "☰",
        (
            MenuItem("contacts-groups", _("Группы"), "contacts:group_list"),
            MenuItem("contacts-search", _("Поиск"), "contacts:search"),
            MenuItem("contacts-stats", _("Статистика"), "contacts:stats"),
            MenuItem("contacts-trash", _("Корзина"), "contacts:trash"),
            MenuItem("contacts-cleanup", _("Очистка базы"), "contacts:cleanup"),
            MenuItem("contacts-stoplist", _("Стоп-лист"), "contacts:stoplist"),
            MenuItem("contacts-export", _("Выгрузка в Excel"), "contacts:export"),
            MenuItem("contacts-settings", _("Настройки"), "contacts:fields"),
        ),
    ),
    MenuSection(
        "sms",
        _("Рассылка СМС"),
        "✉",
        (
            MenuItem("sms-send", _("Отправить сообщение"), "messaging:sms_send"),
            MenuItem("sms-reports", _("Отчёты"), "reports:campaigns"),
            MenuItem("sms-senders", _("Имена отправителя"), "messaging:sender_names"),
            MenuItem("sms-templates", _("Шаблоны"), "messaging:templates"),
            MenuItem(
                "sms-moderation-templates",
                _("Шаблоны модерации"),
                "messaging:moderation_templates",
            ),
            MenuItem(
                "sms-greetings", _("Поздравления и уведомления"), "messaging:greetings"
            ),
            MenuItem("sms-scheduler", _("Планировщик"), "messaging:scheduler"),
            MenuItem("sms-promo", _("Промо-акции"), "promo:actions"),
            MenuItem("sms-promo-managers", _("Менеджеры"), "promo:managers"),
            MenuItem("sms-tariffs", _("Тарифы"), "billing:tariffs"),
        ),
    ),
    MenuSection(
        "voice",
        _("Голосовая рассылка"),
        "☎",
        (
            MenuItem("voice-send", _("Отправить сообщение"), "voice:send"),
            MenuItem("voice-reports", _("Отчёты"), "voice:reports"),
            MenuItem("voice-numbers", _("Номера отправителя"), "voice:numbers"),
            MenuItem("voice-tariffs", _("Тарифы"), "voice:tariffs"),
        ),
    ),
    MenuSection(
        "viber",
        _("Рассылка Viber"),
        "✆",
        (
            MenuItem("viber-send", _("Отправить сообщение"), "viber:send"),
            MenuItem("viber-reports", _("Отчёты"), "viber:reports"),
            MenuItem("viber-senders", _("Имена отправителя"), "viber:sender_names"),
            MenuItem(
                "viber-moderation-templates",
                _("Шаблоны модерации"),
                "viber:moderation_templates",
            ),
            MenuItem("viber-tariffs", _("Тарифы"), "viber:tariffs"),
        ),
    ),
    MenuSection(
        "social",
        _("Рассылки ВК и ОК"),
        "◉",
        (
            MenuItem("social-send", _("Отправить сообщение"), "social:send"),
            MenuItem("social-reports", _("Отчёты"), "social:reports"),
            MenuItem("social-senders", _("Имена отправителя"), "social:sender_names"),
        ),
    ),
    MenuSection(
        "scenarios",
        _("Сценарии"),
        "⇶",
        (
            MenuItem("scenarios-list", _("Мои сценарии"), "scenarios:list"),
            MenuItem("scenarios-new", _("Новый сценарий"), "scenarios:create"),
        ),
    ),
    MenuSection(
        "chat",
        _("Online-чат"),
        "✎",
        (
            MenuItem("chat-sites", _("Мои сайты"), "chat:sites"),
            MenuItem("chat-console", _("Консоль оператора"), "chat:console"),
        ),
    ),
    MenuSection(
        "callpassword",
        _("CallPassword"),
        "☏",
        (MenuItem("callpassword", _("Авторизация по звонку"), "voice:callpassword"),),
    ),
    MenuSection(
        "events",
        _("События"),
        "⚡",
        (MenuItem("events-list", _("Обработчики событий"), "events:list"),),
    ),
    MenuSection(
        "api",
        _("API"),
        "⌘",
        (
            MenuItem("api-tokens", _("Токены"), "integrations:tokens"),
            MenuItem("api-docs", _("Документация"), "api-docs"),
            MenuItem("api-compat", _("JSON API v1.0"), "integrations:compat_docs"),
            MenuItem("api-webhooks", _("Вебхуки"), "integrations:webhooks"),
        ),
    ),
    MenuSection(
        "partners",
        _("Партнерство"),
        "★",
        (
            MenuItem("partners-overview", _("Обзор"), "partners:overview"),
            MenuItem(
                "partners-withdrawals",
                _("Вывод вознаграждений"),
                "partners:withdrawals",
            ),
            MenuItem("partners-clients", _("Клиенты"), "partners:clients"),
            MenuItem("partners-services", _("Оказанные услуги"), "partners:services"),
        ),
    ),
    MenuSection(
        "advertising",
        _("SMS-реклама"),
        "✦",
        (MenuItem("advertising", _("Информация и заявка"), "messaging:advertising"),),
    ),
    MenuSection(
        "billing",
        _("Финансы"),
        "₽",
        (
            MenuItem("billing-pay", _("Оплатить"), "billing:pay"),
            MenuItem(
                "billing-ledger", _("Движение денежных средств"), "billing:ledger"
            ),
            MenuItem("billing-services", _("Оказанные услуги"), "billing:services"),
            MenuItem("billing-documents", _("Документы"), "billing:documents"),
            MenuItem("billing-tariffs", _("Тарифы"), "billing:tariffs"),
        ),
    ),
    MenuSection(
        "account",
        _("Аккаунт"),
        "⚙",
        (
            MenuItem("notifications", _("Уведомления"), "cabinet:notifications"),
            MenuItem("support", _("Техподдержка"), "cabinet:support"),
            MenuItem("settings", _("Настройки"), "cabinet:settings"),
            MenuItem("login-history", _("История входов"), "cabinet:login_history"),
            MenuItem("users", _("Пользователи кабинета"), "cabinet:users"),
            MenuItem("password", _("Смена пароля"), "cabinet:password_change"),
        ),
    ),
)


def find_item(slug: str) -> tuple[MenuSection, MenuItem] | None:
    for section in MENU:
        for item in section.items:
            if item.slug == slug:
                return section, item
    return None
