from datetime import timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import MessageStatus as S
from .registry import ChannelKind, RetryPolicy, StatusColumn, Unit, register
from .sms_text import count_sms

DELIVERED = StatusColumn("delivered", _("Д"), _("Доставлено"), (S.DELIVERED,))
CLICKED = StatusColumn("clicked", _("Кл"), _("Клик по ссылке"), (S.CLICKED,))
UNDELIVERED = StatusColumn(
    "undelivered", _("Н"), _("Не доставлено"), (S.UNDELIVERED, S.FAILED, S.EXPIRED)
)
MODERATION = StatusColumn("moderation", _("М"), _("На модерации"), (S.MODERATION,))
CANCELLED = StatusColumn("cancelled", _("Отм"), _("Отменено"), (S.CANCELLED,))
SENT = StatusColumn(
    "sent",
    _("Отпр"),
    _(
        "Отправлено оператору: абонент был в сети, но SMS-центр пока не может "
        "доставить сообщение"
    ),
    (S.SENT,),
)
IN_PROGRESS = StatusColumn(
    "queued", _("П"), _("В процессе отправки"), (S.QUEUED, S.SENDING)
)
DEFERRED = StatusColumn("deferred", _("Отл"), _("Отложено"), (S.DEFERRED,))
# Not a column of SMS's report: channels whose recipients can unsubscribe
# (Viber, voice's digit, VK/OK) share it.
UNSUBSCRIBED = StatusColumn(
    "unsubscribed", _("От"), _("Абонент отписался"), (S.UNSUBSCRIBED,)
)

SMS = register(
    ChannelKind(
        code="sms",
        label=_("Рассылка СМС"),
        columns=(
            DELIVERED,
            CLICKED,
            UNDELIVERED,
            MODERATION,
            CANCELLED,
            SENT,
            IN_PROGRESS,
            DEFERRED,
        ),
        success=frozenset({S.DELIVERED, S.CLICKED}),
        unit=Unit.PARTS,
        count_units=lambda text, content: count_sms(text).parts,
        default_sender=lambda: settings.DEFAULT_SENDER_NAME,
        retry=RetryPolicy(attempts=5, interval=timedelta(seconds=30)),
        service_code="sms",
        compose_url="messaging:sms_send",
        gateway_key="sms",
    )
)
