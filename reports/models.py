"""Saved report filters.  Report figures themselves come from the engine's
tables (``Campaign``, ``CampaignCounter``, ``Message``); see docs/REPORTS.md."""

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account


class SavedFilter(models.Model):
    """A named set of report filters (a URL query string), shared by every
    cabinet user of the account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("канал"), max_length=16)
    name = models.CharField(_("название"), max_length=100)
    query = models.CharField(_("параметры"), max_length=2000)
    created_by = models.ForeignKey(
        "cabinet.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("сохранённый фильтр")
        verbose_name_plural = _("сохранённые фильтры")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "channel", "name"], name="savedfilter_unique_name"
            ),
        ]

    def __str__(self):
        return self.name
