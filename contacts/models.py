from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account


class Group(models.Model):
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="groups"
    )
    name = models.CharField(_("название группы"), max_length=200)
    is_hidden = models.BooleanField(
        _("скрытая группа"),
        default=False,
        help_text=_("Скрытые группы по умолчанию не отображаются в списке"),
    )
    is_stoplist = models.BooleanField(
        _("является стоп-листом"),
        default=False,
        help_text=_("Абонентам из стоп-листа не будут отправляться сообщения"),
    )
    created_at = models.DateTimeField(default=now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Denormalised member count, refreshed by every service that writes
    # contacts (services._refresh_sizes): the group list and group pages never
    # COUNT(*) a million rows.
    size = models.PositiveIntegerField(_("контактов"), default=0)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("группа")
        verbose_name_plural = _("группы")
        indexes = [models.Index(fields=["account", "deleted_at"])]

    def __str__(self):
        return self.name


class Contact(models.Model):
    class Gender(models.TextChoices):
        MALE = "m", _("Мужской")
        FEMALE = "f", _("Женский")

    # No database FK constraint on account: it is redundant with
    # group.account, and its per-row RI trigger costs a third of a COPY import.
    account = models.ForeignKey(
        Account,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # No database FK constraint on group either: its deferred RI trigger ran
    # once per imported row at COMMIT.  Contacts are written only by
    # contacts.services / contacts.importer for a live group of the account,
    # groups are soft-deleted, and the purge deletes a group's contacts before
    # the group (Django's on_delete cascade covers ORM deletes).
    group = models.ForeignKey(
        Group,
        on_delete=models.CASCADE,
        related_name="contacts",
        db_index=False,
        db_constraint=False,
    )
    phone = models.CharField(_("номер телефона"), max_length=20)
    last_name = models.CharField(_("фамилия"), max_length=100, blank=True)
    first_name = models.CharField(_("имя"), max_length=100, blank=True)
    middle_name = models.CharField(_("отчество"), max_length=100, blank=True)
    birth_date = models.DateField(_("дата рождения"), null=True, blank=True)
    gender = models.CharField(
        _("пол"), max_length=1, choices=Gender.choices, blank=True
    )
    email = models.EmailField(_("email"), blank=True)
    link = models.CharField(_("ссылка"), max_length=500, blank=True)
    consent = models.BooleanField(_("согласие на П/Д"), default=False)
    operator = models.CharField(_("мобильный оператор"), max_length=64, blank=True)
    country = models.CharField(_("страна"), max_length=2, blank=True)
    region = models.CharField(_("регион"), max_length=100, blank=True)
    timezone = models.CharField(_("часовой пояс"), max_length=40, blank=True)
    extra = models.JSONField(_("дополнительные поля"), default=dict, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("контакт")
        verbose_name_plural = _("контакты")
        # Every index costs the COPY import, so there is one per purpose:
        # the unique (group, phone) serves group pages (phone order) and
        # duplicate checks; migrations 0005-0007 add, on PostgreSQL,
        # (account, phone text_pattern_ops) for equality and "starts with",
        # (account, reverse(phone)) for "ends with" and (account, full name
        # COLLATE "C", id) for the search across groups; elsewhere a plain
        # (account, phone).
        constraints = [
            models.UniqueConstraint(
                fields=["group", "phone"], name="contact_unique_in_group"
            )
        ]

    def __str__(self):
        return self.phone


class StopNumber(models.Model):
    """A single number on the account's stop-list (C12)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(_("номер телефона"), max_length=20)
    comment = models.CharField(_("комментарий"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("номер в стоп-листе")
        verbose_name_plural = _("стоп-лист")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "phone"], name="stopnumber_unique"
            )
        ]

    def __str__(self):
        return self.phone


class Unsubscribe(models.Model):
    """A recipient who unsubscribed from one sender on one channel (kept apart
    from the stop-list: another sender may still write to them)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(max_length=20)
    channel = models.CharField(max_length=16)
    sender = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("отписка")
        verbose_name_plural = _("отписавшиеся")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "phone", "channel", "sender"],
                name="unsubscribe_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["account", "channel", "sender"],
                name="unsubscribe_account_channel",
            )
        ]

    def __str__(self):
        return f"{self.phone} {self.channel}/{self.sender}"


class CustomField(models.Model):
    """An account-defined contact field (C11).  Values live in
    ``Contact.extra[key]``; ``[key]`` is the substitution command."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Текст")
        NUMBER = "number", _("Число")
        DATE = "date", _("Дата")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    key = models.SlugField(_("команда подстановки"), max_length=40)
    name = models.CharField(_("название поля"), max_length=100)
    kind = models.CharField(
        _("тип"), max_length=8, choices=Kind.choices, default=Kind.TEXT
    )
    position = models.PositiveSmallIntegerField(_("порядок"), default=0)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("дополнительное поле")
        verbose_name_plural = _("дополнительные поля")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "key"], name="customfield_key_unique"
            )
        ]

    def __str__(self):
        return self.name


class ImportJob(models.Model):
    """One upload of a spreadsheet into a group (C5), processed by a task."""

    class Status(models.TextChoices):
        PREVIEW = "preview", _("Ожидает сопоставления")
        QUEUED = "queued", _("В очереди")
        RUNNING = "running", _("Выполняется")
        DONE = "done", _("Готово")
        FAILED = "failed", _("Ошибка")

    class Policy(models.TextChoices):
        SKIP = "skip", _("Пропускать (оставить существующий контакт)")
        UPDATE = "update", _("Обновлять данные существующего контакта")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        "cabinet.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    filename = models.CharField(_("файл"), max_length=255)
    path = models.CharField(max_length=500)
    kind = models.CharField(max_length=8)  # xlsx / xls / csv
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PREVIEW
    )
    mapping = models.JSONField(default=dict, blank=True)
    # The first rows as text, kept at upload so the mapping step never
    # re-reads a big file.
    preview = models.JSONField(default=list, blank=True)
    has_header = models.BooleanField(default=True)
    policy = models.CharField(
        _("повторяющиеся номера"),
        max_length=8,
        choices=Policy.choices,
        default=Policy.SKIP,
    )
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    # The first rows rejected, with reasons (all of them are in the
    # downloadable report at ``errors_path``).
    errors = models.JSONField(default=list, blank=True)
    errors_path = models.CharField(max_length=500, blank=True)
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("импорт контактов")
        verbose_name_plural = _("импорт контактов")

    def __str__(self):
        return self.filename

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, int(self.processed * 100 / self.total))

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class NumberingPlanRange(models.Model):
    """One row of the Russian numbering-plan registry (C13), loaded by
    ``manage.py load_numbering_plan``."""

    prefix = models.PositiveSmallIntegerField()
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    operator = models.CharField(max_length=200)
    region = models.CharField(max_length=200)
    inn = models.CharField(max_length=12, blank=True)

    class Meta:
        verbose_name = _("диапазон нумерации")
        verbose_name_plural = _("план нумерации")
        indexes = [models.Index(fields=["prefix", "start"])]

    def __str__(self):
        return f"{self.prefix} {self.start}-{self.end} {self.operator}"
