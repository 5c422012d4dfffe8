from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account


class Group(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(_("название группы"), max_length=200)
    is_hidden = models.BooleanField(
        _("скрытая группа"), default=False,
        help_text=_("Скрытые группы по умолчанию не отображаются в списке"),
    )
    is_stoplist = models.BooleanField(
        _("является стоп-листом"), default=False,
        help_text=_("Абонентам из стоп-листа не будут отправляться сообщения"),
    )
    created_at = models.DateTimeField(default=now)
    deleted_at = models.DateTimeField(null=True, blank=True)

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

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+",
                                db_index=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="contacts",
                              db_index=False)
    phone = models.CharField(_("номер телефона"), max_length=20)
    last_name = models.CharField(_("фамилия"), max_length=100, blank=True)
    first_name = models.CharField(_("имя"), max_length=100, blank=True)
    middle_name = models.CharField(_("отчество"), max_length=100, blank=True)
    birth_date = models.DateField(_("дата рождения"), null=True, blank=True)
    gender = models.CharField(_("пол"), max_length=1, choices=Gender.choices, blank=True)
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
        indexes = [
            models.Index(fields=["group", "id"]),
            models.Index(fields=["account", "phone"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["group", "phone"], name="contact_unique_in_group")
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
            models.UniqueConstraint(fields=["account", "phone"], name="stopnumber_unique")
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
                fields=["account", "phone", "channel", "sender"], name="unsubscribe_unique"
            )
        ]

    def __str__(self):
        return f"{self.phone} {self.channel}/{self.sender}"
