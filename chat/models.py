"""The online chat (manual section 3): the client's sites with their widget,
operators, the plan, visitors and one conversation thread per visitor across
the widget, SMS and Viber."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account

MAX_TEXT = 2000  # characters of one chat message


def new_key() -> str:
    return secrets.token_urlsafe(12)


class Site(models.Model):
    """A site the widget is installed on.  ``key`` is the public id the embed
    snippet carries; the widget is served only to pages of ``origin``."""

    class Language(models.TextChoices):
        RU = "ru", _("Русский")
        EN = "en", _("English")

    class Size(models.TextChoices):
        SMALL = "small", _("Маленький")
        MEDIUM = "medium", _("Средний")
        LARGE = "large", _("Большой")

    class Position(models.TextChoices):
        RIGHT = "right", _("Справа внизу")
        LEFT = "left", _("Слева внизу")

    class Font(models.TextChoices):
        SANS = "sans", _("Без засечек")
        SERIF = "serif", _("С засечками")
        MONO = "mono", _("Моноширинный")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(_("Адрес сайта"), max_length=200)
    origin = models.CharField(max_length=200)
    language = models.CharField(
        _("Язык виджета"), max_length=2, choices=Language.choices, default="ru"
    )
    key = models.CharField(max_length=32, unique=True, default=new_key)
    color = models.CharField(_("Цвет"), max_length=7, default="#2b6cb0")
    font = models.CharField(
        _("Шрифт"), max_length=8, choices=Font.choices, default=Font.SANS
    )
    size = models.CharField(
        _("Размер"), max_length=8, choices=Size.choices, default=Size.MEDIUM
    )
    position = models.CharField(
        _("Положение"), max_length=8, choices=Position.choices, default="right"
    )
    greeting = models.CharField(
        _("Приветствие"),
        max_length=200,
        default="Здравствуйте! Чем можем помочь?",
        blank=True,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "origin"], name="chat_site_origin_once"
            )
        ]
        ordering = ["pk"]

    def __str__(self):
        return self.address


class Plan(models.Model):
    """The account's chat plan: free, or the full version paid up to
    ``full_until`` (bought by the month through the ledger)."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="+")
    full_until = models.DateTimeField(null=True, blank=True)
    purchases = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"chat plan of account {self.account_id}"

    def is_full(self, now=None) -> bool:
        return bool(self.full_until and self.full_until > (now or timezone.now()))


class Operator(models.Model):
    """A cabinet user of the account who answers in the console."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("Имя для посетителей"), max_length=60)
    # Last heartbeat of an open console: online while recent.
    seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user"], name="chat_operator_user_once")
        ]
        ordering = ["pk"]

    def __str__(self):
        return self.name


class Visitor(models.Model):
    """Someone who writes: a widget visitor (``key`` kept in their browser) or a
    recipient answering a campaign (``phone``).  One thread per visitor."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, null=True, blank=True)
    key = models.CharField(max_length=64, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    contact_id = models.BigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=200, blank=True)
    page = models.CharField(max_length=500, blank=True)
    referrer = models.CharField(max_length=500, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    blocked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "key"],
                condition=~models.Q(key=""),
                name="chat_visitor_key_once",
            ),
            models.UniqueConstraint(
                fields=["account", "phone"],
                condition=~models.Q(phone=""),
                name="chat_visitor_phone_once",
            ),
        ]

    def __str__(self):
        return self.label()

    def label(self) -> str:
        if self.name:
            return self.name
        if self.phone:
            return "+" + self.phone
        return f"Посетитель #{self.pk}"


class Conversation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Открыт")
        CLOSED = "closed", _("Закрыт")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    visitor = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, related_name="conversations"
    )
    site = models.ForeignKey(Site, on_delete=models.SET_NULL, null=True, blank=True)
    # Where the visitor last wrote from: the operator's answer goes back there.
    channel = models.CharField(max_length=16, default="widget")
    # The campaign whose recipient answered (SMS/Viber replies).
    campaign = models.ForeignKey(
        "messaging.Campaign", on_delete=models.SET_NULL, null=True, blank=True
    )
    operator = models.ForeignKey(
        Operator, on_delete=models.SET_NULL, null=True, blank=True
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    unread = models.PositiveIntegerField(default=0)
    # The visitor left a message while no operator was online.
    left_message = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-last_message_at"])]

    def __str__(self):
        return f"conversation #{self.pk}"


class ChatMessage(models.Model):
    class Author(models.TextChoices):
        VISITOR = "visitor", _("Посетитель")
        OPERATOR = "operator", _("Оператор")
        SYSTEM = "system", _("Система")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.CharField(max_length=8, choices=Author.choices)
    operator = models.ForeignKey(
        Operator, on_delete=models.SET_NULL, null=True, blank=True
    )
    channel = models.CharField(max_length=16, default="widget")
    text = models.TextField()
    # The sender's own id of the message (widget resends, carrier callbacks):
    # a repeat is the same message.
    client_id = models.CharField(max_length=64, blank=True)
    # An operator's answer sent through a channel: its campaign.
    campaign_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "author", "client_id"],
                condition=~models.Q(client_id=""),
                name="chat_message_client_id_once",
            )
        ]
        indexes = [models.Index(fields=["conversation", "id"])]
        ordering = ["id"]

    def __str__(self):
        return self.text[:50]


class ChannelReply(models.Model):
    """A channel's reply already taken into a conversation (carriers repeat
    callbacks: keyed by channel and the carrier's id)."""

    channel = models.CharField(max_length=16)
    external_id = models.CharField(max_length=100)
    message = models.ForeignKey(ChatMessage, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="chat_reply_once"
            )
        ]

    def __str__(self):
        return f"{self.channel}:{self.external_id}"


class CannedReply(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("Название"), max_length=60)
    text = models.TextField(_("Текст"), max_length=MAX_TEXT)

    class Meta:
        ordering = ["title", "pk"]

    def __str__(self):
        return self.title
