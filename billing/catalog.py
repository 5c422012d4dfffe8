"""The services the ledger charges for, as the channels register them.

Charges and refunds carry a service code (``LedgerEntry.service``); billing
documents ("оказанные услуги", acts) and, later, partner rewards group by it.
Billing sits below the channels, so it does not know them: each channel's
registry entry registers its code and label here at start-up
(``messaging.registry.register``).  Labels are rendered in the documents'
language (Russian), whatever the viewer's language is: they land in
accounting documents.
"""

from django.conf import settings
from django.utils import translation

OTHER = ""
_labels: dict[str, object] = {OTHER: "Прочие услуги"}


def register_service(code: str, label) -> None:
    _labels[code] = label


def unregister_service(code: str) -> None:
    if code != OTHER:
        _labels.pop(code, None)


def service_codes() -> list[str]:
    return [code for code in _labels if code != OTHER]


def service_label(code: str) -> str:
    label = _labels.get(code)
    if label is None:
        return code
    with translation.override(settings.LANGUAGE_CODE):
        return str(label)
