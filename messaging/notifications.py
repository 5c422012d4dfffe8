"""The SMS transport of the cabinet's notification port (``cabinet.notifications``):
service texts — sign-in codes, payment confirmations — go out as free,
unmoderated SMS through the normal pipeline (``services.service_sms_send``).
Registered in ``MessagingConfig.ready()``."""

from cabinet.notifications import DeliveryError, Transport

from .services import LaunchError, service_sms_send


class SmsTransport(Transport):
    code = "sms"
    # Notifications themselves are not sent by SMS (only their ``text``, when
    # the caller gives one, through ``send_text``).
    kinds = frozenset()

    def send_text(self, *, account, phone: str, text: str) -> None:
        try:
            service_sms_send(account=account, phone=phone, text=text)
        except LaunchError as exc:
            raise DeliveryError(exc.message) from exc
