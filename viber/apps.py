from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ViberConfig(AppConfig):
    name = "viber"
    verbose_name = _("Рассылка Viber")
