"""The provider's older protocols (SPEC A3), served by the JSON API's code.

* the XML API: ``POST /API/XML/send.php``, ``balance.php``, ``report.php`` —
  an XML ``<data>`` body with ``login``/``password``; the answer is XML
  ``<data><code>1</code><descr>…</descr>…</data>``, or the same as JSON
  (``{"data": {…}}``) with ``?returnType=json``;
* the legacy calls: ``/lcabApi/info.php``, ``sendSms.php``, ``getGroups.php``
  — parameters in the query string, a form or a JSON body; the answer is JSON
  ``{"code": 1, "descr": …, …}``.

The wire formats are those public client libraries send and read (PHP
classes and Bitrix modules of the provider, Python, Ruby, Go and Yii
clients).  A send becomes a JSON API request (``compat.parse_send``) and goes
through ``compat.send_parsed``: the same checks, stop-list, pricing, replay
rule and campaigns.  ``code`` is 1 on success; errors carry the JSON API's
codes (``compat.Code``), and the protocol logins' own 2–6 (see
``services.ProtocolAuthError``).

XML is parsed with ``defusedxml`` (no DTDs, no entity declarations, no
external references); a bare ``&`` in a text — the provider's own PHP class
does not escape texts — is read as a literal ampersand.
"""

import re
from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal
from xml.etree import ElementTree

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as parse_xml
from django.utils import timezone

from contacts.phones import InvalidPhone, normalize_phone
from contacts.selectors import groups_live
from messaging import registry
from messaging.models import Campaign, CampaignCounter, Message, MessageStatus
from messaging.senders import sender_choices

from .compat import (
    MAX_ID,
    NUL_MESSAGE,
    Code,
    CompatError,
    SendRequest,
    latest_by_id,
    new_client_id,
    parse_send,
    parse_zone,
    send_parsed,
)

S = MessageStatus
OK_DESCR = "Операция успешно завершена"


class LegacyError(Exception):
    """A request-level error of the legacy protocols: ``code`` ≠ 1, nothing
    was sent."""

    def __init__(self, code: int, descr: str, *, retry_after: int | None = None):
        super().__init__(descr)
        self.code = code
        self.descr = descr
        self.retry_after = retry_after

    @classmethod
    def of(cls, exc: CompatError) -> "LegacyError":
        return cls(exc.code, exc.descr, retry_after=exc.retry_after)


# --- parameters -------------------------------------------------------------------
def _text_param(value, name: str, *, strip: bool = True) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise LegacyError(Code.BAD_REQUEST, f"Параметр «{name}» должен быть строкой.")
    value = str(value)
    if "\x00" in value:
        raise LegacyError(Code.BAD_REQUEST, NUL_MESSAGE % name)
    return value.strip() if strip else value


def form_params(query, form, json_body) -> dict:
    """The parameters of an ``lcabApi`` call: the query string, then a form,
    then a JSON object body (later ones win)."""
    params: dict = {}
    for source in (query, form):
        for key in source:
            params[key] = source.get(key)
    if isinstance(json_body, dict):
        params.update(json_body)
    for key, value in params.items():
        if isinstance(value, str) and "\x00" in value:
            raise LegacyError(Code.BAD_REQUEST, NUL_MESSAGE % key)
    return params


_BARE_AMP = re.compile(rb"&(?!#\d+;|#x[0-9A-Fa-f]+;|[A-Za-z][A-Za-z0-9._-]*;)")


def xml_params(body: bytes) -> tuple[dict[str, str], list[tuple[str, str | None]]]:
    """An XML API body → (``<data>``'s simple fields, the ``<to number="…">``
    recipients with their own texts or ``None``).  Refuses DTDs and entity
    declarations."""
    if not body.strip():
        raise LegacyError(Code.BAD_REQUEST, "Пустое тело запроса: ожидается XML.")
    try:
        root = parse_xml(_BARE_AMP.sub(b"&amp;", body), forbid_dtd=True)
    except DefusedXmlException:
        raise LegacyError(
            Code.BAD_REQUEST,
            "XML с DTD или объявлениями сущностей не принимается.",
        ) from None
    except (ParseError, ValueError, UnicodeError):
        raise LegacyError(
            Code.BAD_REQUEST,
            "Тело запроса не является корректным XML: ожидается <data>…</data>.",
        ) from None
    if root.tag != "data":
        raise LegacyError(
            Code.BAD_REQUEST, "Корневой элемент запроса должен быть <data>."
        )
    fields: dict[str, str] = {}
    recipients: list[tuple[str, str | None]] = []
    for child in root:
        text = (child.text or "").strip()
        if "\x00" in text or any("\x00" in v for v in child.attrib.values()):
            raise LegacyError(Code.BAD_REQUEST, NUL_MESSAGE % child.tag)
        if child.tag == "to":
            # <to number="…">own text</to>; also <to>79…</to> and
            # <to><number>79…</number></to>, as some clients write it.
            nested = (child.findtext("number") or "").strip()
            number = child.get("number", "").strip() or nested or text
            own = text if child.get("number") and text else None
            recipients.append((number, own))
        elif isinstance(child.tag, str):
            fields[child.tag] = text
    return fields, recipients


def split_phones(raw) -> list[str]:
    """``to`` of ``sendSms.php``: one number, a list, or numbers separated by
    commas, semicolons or new lines."""
    if raw in (None, ""):
        return []
    if isinstance(raw, list):
        values = raw
    else:
        values = re.split(r"[,;\n]", str(raw))
    phones = []
    for value in values:
        value = _text_param(value, "to")
        if value:
            phones.append(value)
    return phones


# --- sending ----------------------------------------------------------------------
def send_request(
    *,
    recipients: list[tuple[str, str | None]],
    text: str,
    sender: str = "",
    smsid: str = "",
    send_at: str = "",
    ttl: str = "",
    channel: str = "",
    group_ids: list[str] | None = None,
    validate: bool = False,
    opsos_allowed: list[str] | None = None,
    opsos_disallowed: list[str] | None = None,
    description: str,
) -> tuple[SendRequest, str]:
    """A legacy send as a JSON API request: one message per number (its own
    text or ``text``), one per contact group.  Every message carries the
    send's ``smsid`` as its id — the client's (a replay of the same send is not
    sent again) or ours — and the campaigns remember it for ``report.php``.
    Returns the request and the smsid."""
    given = bool(smsid)
    if len(smsid) > MAX_ID:
        raise LegacyError(Code.BAD_REQUEST, f"smsid длиннее {MAX_ID} символов.")
    smsid = smsid or new_client_id()
    messages = []
    for number, own in recipients:
        message = {"recipient": number, "id": smsid, "text": own or text}
        if sender:
            message["source"] = sender
        if ttl:
            message["timeout"] = ttl
        messages.append(message)
    for group in group_ids or []:
        messages.append(
            {
                "recipient": group,
                "recipientType": "group",
                "id": smsid,
                "text": text,
                **({"source": sender} if sender else {}),
                **({"timeout": ttl} if ttl else {}),
            }
        )
    if not messages:
        raise LegacyError(
            Code.INVALID_RECIPIENT, "Укажите номер получателя (to) или группу."
        )
    data: dict = {"messages": messages, "validate": validate}
    if send_at and not send_at.startswith("0000-00-00"):
        data["startDateTime"] = send_at
    if channel:
        if not channel.isdigit():
            raise LegacyError(Code.BAD_REQUEST, "Параметр «channel» — целое число.")
        data["channel"] = int(channel)
    # Operators by name (mts, МТС…); the provider's numeric operator ids have
    # no counterpart here and are ignored.
    allowed = [o for o in opsos_allowed or [] if o and not o.isdigit()]
    disallowed = [o for o in opsos_disallowed or [] if o and not o.isdigit()]
    if allowed:
        data["opsosAllowed"] = allowed
    if disallowed:
        data["opsosDisallowed"] = disallowed
    try:
        req = parse_send(data, now=timezone.now())
    except CompatError as exc:
        raise LegacyError.of(exc) from None
    for item in req.items:
        item.given_id = item.given_id and given
    req.options["smsid"] = smsid
    req.description = description
    return req, smsid


def xml_send_request(
    fields: dict[str, str], recipients: list[tuple[str, str | None]]
) -> tuple[SendRequest, str, str]:
    """``send.php``'s ``<data>`` → (request, smsid, action).  ``action`` is
    ``send`` or ``check`` (priced and checked, nothing sent)."""
    action = (fields.get("action") or "send").lower()
    if action not in ("send", "check"):
        raise LegacyError(
            Code.BAD_REQUEST, "action: «send» (отправить) или «check» (проверить)."
        )
    groups = [g for g in re.split(r"[,;\s]+", fields.get("idGroup", "")) if g]
    req, smsid = send_request(
        recipients=recipients,
        text=fields.get("text", ""),
        sender=fields.get("source") or fields.get("sender") or "",
        smsid=fields.get("smsid", ""),
        send_at=fields.get("datetime", ""),
        ttl=fields.get("vp", ""),
        channel=fields.get("channel", ""),
        group_ids=groups,
        validate=action == "check",
        opsos_allowed=re.split(r"[,;\s]+", fields.get("allowed_opsos", "")),
        opsos_disallowed=re.split(r"[,;\s]+", fields.get("exclude_opsos", "")),
        description="XML API",
    )
    return req, smsid, action


def lcab_send_request(params: dict) -> tuple[SendRequest, str]:
    """``sendSms.php``'s parameters → (request, smsid)."""
    text = _text_param(params.get("txt", params.get("text")), "txt", strip=False)
    sender = _text_param(params.get("source"), "source") or _text_param(
        params.get("sender"), "sender"
    )
    groups = [
        g
        for g in re.split(r"[,;\s]+", _text_param(params.get("idGroup"), "idGroup"))
        if g
    ]
    return send_request(
        recipients=[(phone, None) for phone in split_phones(params.get("to"))],
        text=text,
        sender=sender,
        smsid=_text_param(params.get("smsid"), "smsid"),
        send_at=_text_param(params.get("dateTimeSend"), "dateTimeSend"),
        channel=_text_param(params.get("channel"), "channel"),
        group_ids=groups,
        description="lcabApi",
    )


def _units(text: str) -> int:
    return registry.get_channel("sms").count_units(text, {})


def send(*, account, req: SendRequest, smsid: str, action: str = "send") -> dict:
    """Send (or check) a legacy request; the provider's summary fields."""
    answer = send_parsed(account=account, req=req)
    result = answer["result"]
    everyone = sent = parts = 0
    refused: list[str] = []
    for item, message in zip(req.items, result["messages"], strict=True):
        if item.group_id is not None:
            count = int(message.get("recipients") or 0) if message["success"] else 0
            everyone += count
            if message["success"]:
                sent += count
                parts += count * _units(item.text)
            else:
                refused.append(f"группа {item.group_id}: {message['error']['descr']}")
            continue
        everyone += 1
        if message["success"]:
            sent += 1
            parts += int(message.get("parts") or _units(item.text))
        else:
            refused.append(
                f"{item.phone or item.recipient}: {message['error']['descr']}"
            )
    total = Decimal(str(result["price"]["sum"]))
    at = req.send_at or timezone.now()
    summary = {
        "code": 1 if answer["success"] else answer["error"]["code"],
        "descr": OK_DESCR if answer["success"] else answer["error"]["descr"],
    }
    if answer["success"] and refused:
        shown = "; ".join(refused[:5]) + ("; …" if len(refused) > 5 else "")
        summary["descr"] = f"{OK_DESCR}. Не отправлено: {shown}"
    summary.update(
        {
            "smsid": smsid,
            "datetime": timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S"),
            "action": action,
            "allRecivers": everyone,
            "colSendAbonent": sent,
            "colNonSendAbonent": everyone - sent,
            "priceOfSending": float(total),
            "colsmsOfSending": parts,
            "price": float((total / parts).quantize(Decimal("0.01"))) if parts else 0.0,
        }
    )
    return summary


# --- reads ------------------------------------------------------------------------
def account_info(*, account) -> dict:
    """``info.php``: the balance and the sender names the account may use."""
    return {
        "code": 1,
        "descr": OK_DESCR,
        "account": float(account.balance),
        "organizationDescr": account.name,
        "source": sender_choices(account_id=account.pk, channel="sms"),
    }


def groups(*, account, group_id: str = "", name: str = "") -> dict:
    """``getGroups.php``: the account's contact groups (optionally one id or a
    name fragment), with their sizes."""
    qs = groups_live(account_id=account.pk).order_by("name", "id")
    if group_id:
        if not group_id.isdigit():
            raise LegacyError(Code.BAD_REQUEST, "Параметр «id» — число.")
        qs = qs.filter(pk=int(group_id))
    qs = qs.only("id", "name", "size", "is_stoplist")
    if name:
        # In Python: SQLite's LIKE folds ASCII only, and names are Cyrillic.
        needle = name.casefold()
        found = [g for g in qs.iterator() if needle in g.name.casefold()][:1000]
    else:
        found = list(qs[:1000])
    return {
        "code": 1,
        "descr": OK_DESCR,
        "groups": [
            {
                "id": str(g.pk),
                "name": g.name,
                "count": g.size,
                "stoplist": int(g.is_stoplist),
            }
            for g in found
        ],
    }


# Our statuses → the report's buckets.
BUCKETS = {
    "delivered": (S.DELIVERED, S.VIEWED, S.SUCCESS, S.IVR, S.UNSUBSCRIBED, S.CLICKED),
    "notDelivered": (S.UNDELIVERED, S.SPAM, S.FAILED, S.EXPIRED),
    "waiting": (S.DEFERRED,),
    "enqueued": (S.QUEUED,),
    "process": (S.SENDING, S.SENT),
    "cancel": (S.CANCELLED,),
    "onModer": (S.MODERATION,),
}
BUCKET_OF = {status: name for name, statuses in BUCKETS.items() for status in statuses}
REPORT_LIMIT = 1000


def _local(at) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S") if at else ""


def _sms_summary(campaign: Campaign, smsid: str, counts: dict[str, int]) -> dict:
    cols = dict.fromkeys(BUCKETS, 0)
    for status, count in counts.items():
        bucket = BUCKET_OF.get(status)
        if bucket:
            cols[bucket] += count
    return {
        "smsid": smsid,
        "datetime": _local(campaign.send_at or campaign.created_at),
        "text": campaign.text,
        "source": campaign.sender,
        "allCol": sum(cols.values()),
        "deliveredCol": cols["delivered"],
        "notDeliveredCol": cols["notDelivered"],
        "waitingCol": cols["waiting"],
        "enqueuedCol": cols["enqueued"],
        "processCol": cols["process"],
        "cancelCol": cols["cancel"],
        "onModerCol": cols["onModer"],
        "payment": f"{campaign.cost:.2f}",
    }


def _smsid_of(campaign: Campaign) -> str:
    return str((campaign.options or {}).get("smsid") or campaign.pk)


def _resolve(account, smsid: str) -> tuple[Campaign, str] | None:
    """The send an smsid names — the latest campaign of a legacy send with it,
    else the latest message with that id (JSON API), else a campaign id — and
    the client_ref its messages carry ("" for all of the campaign's)."""
    campaigns = Campaign.objects.filter(account=account, channel="sms")
    campaign = campaigns.filter(options__smsid=smsid).order_by("-id").first()
    if campaign is not None:
        return campaign, ""
    row = latest_by_id(account.pk, [smsid]).get(smsid)
    if row is not None:
        return campaigns.get(pk=row["campaign_id"]), smsid
    if smsid.isdigit():
        campaign = campaigns.filter(pk=int(smsid)).first()
        if campaign is not None:
            return campaign, ""
    return None


def report_detail(*, account, smsid: str, with_datetime: bool = False) -> dict:
    """``report.php`` with ``smsid``: the numbers of one send by status."""
    found = _resolve(account, smsid)
    if found is None:
        raise LegacyError(Code.NOT_FOUND, f"Рассылка smsid «{smsid}» не найдена.")
    campaign, client_ref = found
    messages = Message.objects.filter(campaign_id=campaign.pk).order_by("id")
    if client_ref:
        messages = messages.filter(client_ref=client_ref)
    numbers: dict[str, list] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for phone, status, status_at in messages.values_list(
        "phone", "status", "status_at"
    ).iterator(chunk_size=5000):
        counts[status] += 1
        bucket = BUCKET_OF.get(status)
        if bucket is None:
            continue
        number = phone.lstrip("+")
        if with_datetime:
            numbers[bucket].append(Attr(number, datetime=_local(status_at)))
        else:
            numbers[bucket].append(number)
    detail = {
        name: {"number": numbers[name]} if numbers[name] else "" for name in BUCKETS
    }
    return {
        "code": 1,
        "descr": OK_DESCR,
        "detail": detail,
        "sms": _sms_summary(campaign, smsid, counts),
    }


def _bound(raw: str, *, end: bool):
    raw = (raw or "").strip()
    if not raw or raw.startswith("0000-00-00"):
        return None
    zone = parse_zone(None)
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            at = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        if fmt == "%Y-%m-%d" and end:
            at = datetime.combine(at.date() + timedelta(days=1), time())
        return at.replace(tzinfo=zone)
    raise LegacyError(
        Code.BAD_REQUEST, f"Неверная дата «{raw[:30]}»: ожидается ГГГГ-ММ-ДД ЧЧ:ММ:СС."
    )


def report_list(
    *, account, start: str = "", stop: str = "", source: str = "", number: str = ""
) -> dict:
    """``report.php`` without ``smsid``: the account's SMS sends in a period
    (``0000-00-00`` or nothing = unbounded), newest first, at most
    ``REPORT_LIMIT``; ``source`` and ``number`` filter (``%`` = any)."""
    campaigns = Campaign.objects.filter(account=account, channel="sms")
    since, until = _bound(start, end=False), _bound(stop, end=True)
    if since:
        campaigns = campaigns.filter(created_at__gte=since)
    if until:
        campaigns = campaigns.filter(created_at__lt=until)
    if source and source != "%":
        campaigns = campaigns.filter(sender=source)
    campaigns = list(campaigns.order_by("-id")[:REPORT_LIMIT])
    if number and number != "%":
        try:
            phone = normalize_phone(number)
        except InvalidPhone as exc:
            raise LegacyError(
                Code.INVALID_RECIPIENT, f"Неверный номер «{number}»: {exc.reason}."
            ) from None
        having = set(
            Message.objects.filter(
                campaign_id__in=[c.pk for c in campaigns], phone=phone
            ).values_list("campaign_id", flat=True)
        )
        campaigns = [c for c in campaigns if c.pk in having]
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for cid, status, count in CampaignCounter.objects.filter(
        campaign_id__in=[c.pk for c in campaigns], count__gt=0
    ).values_list("campaign_id", "status", "count"):
        counts[cid][status] = count
    return {
        "code": 1,
        "descr": OK_DESCR,
        "sms": [_sms_summary(c, _smsid_of(c), counts[c.pk]) for c in campaigns],
    }


def balance(*, account) -> dict:
    return {"code": 1, "descr": OK_DESCR, "account": f"{account.balance:.2f}"}


# --- answers ----------------------------------------------------------------------
class Attr:
    """An XML element's text with attributes (``<number datetime="…">…``)."""

    def __init__(self, value, **attributes):
        self.value = value
        self.attributes = attributes


def _scalar(value) -> str:
    # Floats are money here: always two decimals ("0.00", "2.75").
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _append(parent, tag: str, value) -> None:
    if isinstance(value, list):
        for one in value:
            _append(parent, tag, one)
        return
    element = ElementTree.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, inner in value.items():
            _append(element, key, inner)
    elif isinstance(value, Attr):
        element.text = str(value.value)
        element.attrib.update({k: str(v) for k, v in value.attributes.items()})
    elif value is not None:
        element.text = _scalar(value)


def to_xml(data: dict) -> bytes:
    """``<?xml …?><data>…</data>``: a key per element, a list for repeated
    elements, a dict for nested ones."""
    root = ElementTree.Element("data")
    for key, value in data.items():
        _append(root, key, value)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(
        root, encoding="utf-8", xml_declaration=False
    )


def _jsonable(value):
    """The XML's shape as JSON, as the provider's ``returnType=json`` and the
    clients reading it expect: texts as strings, one repeated element as a
    value and several as a list, attributes as ``@attributes`` beside
    ``@value``."""
    if isinstance(value, list):
        items = [_jsonable(v) for v in value]
        return items[0] if len(items) == 1 else items
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if v != []}
    if isinstance(value, Attr):
        return {
            "@value": str(value.value),
            "@attributes": {k: str(v) for k, v in value.attributes.items()},
        }
    if value is None:
        return ""
    return _scalar(value)


def to_json(data: dict) -> dict:
    return {"data": _jsonable(data)}


def error(code: int, descr: str) -> dict:
    return {"code": code, "descr": descr}
