"""The account shell: client organisations, their cabinet users, sign-in history,
API tokens and notifications."""

import hashlib
import secrets
from decimal import Decimal

from django.contrib.auth.models import (
    AbstractBaseUser,
    BaseUserManager,
    PermissionsMixin,
)
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Account(models.Model):
    """The client organisation.  Every client-owned row points here."""

    name = models.CharField(_("организация"), max_length=200)
    balance = models.DecimalField(
        _("баланс"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    # How far below zero the balance may go (0 = prepaid only).
    credit_limit = models.DecimalField(
        _("кредитный лимит"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    tariff_tier = models.PositiveSmallIntegerField(
        _("тарифная ступень"), null=True, blank=True
    )
    low_balance_threshold = models.DecimalField(
        _("критический баланс"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    # New accounts' campaigns go to moderation until staff trust them.
    is_trusted = models.BooleanField(_("доверенный"), default=False)
    is_blocked = models.BooleanField(_("заблокирован"), default=False)
    blocked_reason = models.CharField(
        _("причина блокировки"), max_length=300, blank=True
    )
    # Settings → Безопасность: cabinet sign-in only from these addresses/networks
    # (one per line, CIDR allowed; empty = anywhere) and ending the session when
    # its IP changes.
    allowed_ips = models.TextField(_("разрешённые IP-адреса"), blank=True)
    bind_session_ip = models.BooleanField(
        _("Разрывать сессию при несовпадении IP-адреса"), default=False
    )
    created_at = models.DateTimeField(_("создан"), default=timezone.now)

    class Meta:
        verbose_name = _("аккаунт")
        verbose_name_plural = _("аккаунты")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=-models.F("credit_limit")),
                name="account_balance_within_credit",
            )
        ]

    def __str__(self):
        return f"{self.name} (#{self.pk})"

    def allowed_ip_list(self) -> list[str]:
        return [
            ip.strip()
            for ip in self.allowed_ips.replace(",", "\n").splitlines()
            if ip.strip()
        ]


class Role(models.TextChoices):
    OWNER = "owner", _("Владелец")
    ADMIN = "admin", _("Администратор")
    OPERATOR = "operator", _("Оператор")
    READONLY = "readonly", _("Только чтение")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("email is required")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a cabinet user of one account, or staff."""

    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("имя"), max_length=200, blank=True)
    phone = models.CharField(_("телефон"), max_length=20, blank=True)
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, null=True, blank=True, related_name="users"
    )
    role = models.CharField(
        _("роль"), max_length=16, choices=Role.choices, default=Role.OWNER
    )
    is_active = models.BooleanField(_("активен"), default=True)
    is_staff = models.BooleanField(_("сотрудник"), default=False)
    # Two-step sign-in: after the password, a code sent by SMS to ``phone``.
    two_factor = models.BooleanField(_("Двойная авторизация по SMS"), default=False)
    date_joined = models.DateTimeField(_("зарегистрирован"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("пользователь")
        verbose_name_plural = _("пользователи")

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name or self.email


class LoginEvent(models.Model):
    """One row per successful sign-in (settings → login history)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="login_events"
    )
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("вход в кабинет")
        verbose_name_plural = _("история входов")

    def __str__(self):
        return f"{self.user} {self.created_at:%d.%m.%Y %H:%M} {self.ip}"


class TokenScope(models.TextChoices):
    MESSAGING = "messaging", _("Рассылка сообщений")
    CHAT = "chat", _("Online-чат")
    CABINET = "cabinet", _("Личный кабинет")


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """An API key.  Only its SHA-256 is stored; the key is shown once."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="api_tokens"
    )
    scopes = models.JSONField(_("области"), default=list)
    description = models.CharField(_("описание"), max_length=200, blank=True)
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    allowed_ips = models.TextField(_("разрешённые IP"), blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API-токен")
        verbose_name_plural = _("API-токены")

    def __str__(self):
        return f"{self.prefix}… ({', '.join(self.scopes)})"

    @staticmethod
    def generate_key() -> str:
        return secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allowed_ip_list(self) -> list[str]:
        return [
            ip.strip()
            for ip in self.allowed_ips.replace(",", "\n").splitlines()
            if ip.strip()
        ]


class Notification(models.Model):
    class Kind(models.TextChoices):
        INFO = "info", _("Информация")
        SENDER = "sender", _("Имя отправителя")
        BALANCE = "balance", _("Баланс")
        PAYMENT = "payment", _("Оплата")
        MODERATION = "moderation", _("Модерация")
        SUPPORT = "support", _("Техподдержка")

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INFO)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["account", "read_at"])]
        verbose_name = _("уведомление")
        verbose_name_plural = _("уведомления")

    def __str__(self):
        return self.title


class LoginCode(models.Model):
    """A one-time sign-in code sent by SMS (two-step sign-in).  Only its hash is
    stored; it expires, allows a few attempts and is used once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("код входа")
        verbose_name_plural = _("коды входа")

    def __str__(self):
        return f"{self.user} {self.created_at:%d.%m.%Y %H:%M}"


class Ticket(models.Model):
    """A support request (Техподдержка) with a thread of messages."""

    class Status(models.TextChoices):
        OPEN = "open", _("Ожидает ответа")
        ANSWERED = "answered", _("Есть ответ")
        CLOSED = "closed", _("Закрыт")

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="tickets"
    )
    subject = models.CharField(_("Тема"), max_length=200)
    status = models.CharField(
        _("Статус"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("Создан"), default=timezone.now)
    updated_at = models.DateTimeField(_("Обновлён"), default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["account", "-updated_at"])]
        verbose_name = _("тикет")
        verbose_name_plural = _("тикеты техподдержки")

    def __str__(self):
        return f"#{self.pk} {self.subject}"


class TicketMessage(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_staff_reply = models.BooleanField(_("ответ поддержки"), default=False)
    body = models.TextField(_("Сообщение"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("сообщение тикета")
        verbose_name_plural = _("сообщения тикета")

    def __str__(self):
        return self.body[:60]
