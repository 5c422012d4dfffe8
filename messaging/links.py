"""Short links on the service's own path (S5).

Every distinct URL of a campaign is one ``CampaignLink`` row; each message gets
its own link ``<SHORT_LINK_BASE>/s/<token>`` where the token packs the link id
and the message id (variable-length integers) followed by a truncated
keyed BLAKE2b MAC, in URL-safe base64.  No row is written per message, the token is
short (about 15 characters for a million-message campaign) and cannot be
forged or altered: a bad token is simply "not found".
"""

import base64
import hashlib
import hmac
import re
import secrets
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cabinet import ratelimit
from cabinet.models import Notification
from cabinet.notifications import notify

from .models import CampaignLink
from .signals import replies_received

# Bytes of MAC in a token: a 2^-48 chance to guess a valid one.
MAC_BYTES = 6

# A link in a message text: http(s)://… or www.…, up to the first space, and
# without a trailing sentence punctuation mark.
URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'\[\]]+[^\s<>\"'\[\].,;:!?)»]", re.IGNORECASE
)


class BadToken(ValueError):
    pass


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"messaging.links:" + secret.encode()).digest()  # 32 bytes


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise BadToken("truncated")
        byte = data[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return n, pos
        shift += 7


def _mac(key: bytes, body: bytes) -> bytes:
    # Keyed BLAKE2b is a MAC in its own right (no HMAC construction needed) and
    # several times faster than HMAC-SHA256 for these few bytes.
    return hashlib.blake2b(body, key=key, digest_size=MAC_BYTES).digest()


def token_make(link_id: int, message_id: int) -> str:
    body = _varint(link_id) + _varint(message_id)
    mac = _mac(_key(settings.SECRET_KEY), body)
    return base64.urlsafe_b64encode(body + mac).rstrip(b"=").decode()


def token_read(token: str) -> tuple[int, int]:
    """(link id, message id) of a token; ``BadToken`` for anything forged,
    altered or malformed."""
    if not token or len(token) > 64 or not re.fullmatch(r"[A-Za-z0-9_-]+", token):
        raise BadToken("malformed")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError as exc:
        raise BadToken("malformed") from exc
    if len(raw) <= MAC_BYTES:
        raise BadToken("short")
    body, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    good = _mac(_key(settings.SECRET_KEY), body)
    if not hmac.compare_digest(mac, good):
        raise BadToken("signature")
    link_id, pos = _read_varint(body, 0)
    message_id, pos = _read_varint(body, pos)
    if pos != len(body):
        raise BadToken("trailing bytes")
    return link_id, message_id


def short_base() -> str:
    return getattr(settings, "SHORT_LINK_BASE", "") or settings.SITE_URL


class LinkMaker:
    """Builds each message's short link for one link row (the prefix and key
    are computed once; a link costs one BLAKE2b of a few bytes)."""

    def __init__(self, link_id: int):
        self.prefix = short_base().rstrip("/") + "/s/"
        self.head = _varint(link_id)
        self.key = _key(settings.SECRET_KEY)

    def __call__(self, message_id: int) -> str:
        body = self.head + _varint(message_id)
        mac = hashlib.blake2b(body, key=self.key, digest_size=MAC_BYTES).digest()
        return self.prefix + base64.urlsafe_b64encode(body + mac).rstrip(b"=").decode()


def sample_link() -> str:
    """A link of typical length, for previews and length estimates."""
    return short_base().rstrip("/") + "/s/" + "x" * 15


def campaign_links(
    *, campaign, urls: list[str], kind: str = CampaignLink.Kind.URL
) -> dict[str, CampaignLink]:
    """The link rows of a campaign's distinct URLs, created when missing
    (idempotent: prepare may run again after a crash)."""
    result: dict[str, CampaignLink] = {}
    for url in dict.fromkeys(urls):
        link, _created = CampaignLink.objects.get_or_create(
            campaign=campaign, kind=kind, url=url[:2000]
        )
        result[url] = link
    return result


def find_urls(text: str) -> list[str]:
    return URL_RE.findall(text)


def link_resolve(*, token: str) -> tuple[CampaignLink, int]:
    """The link row and message id of a token.  Raises ``BadToken`` or
    ``CampaignLink.DoesNotExist`` for a bad one."""
    link_id, message_id = token_read(token)
    link = CampaignLink.objects.select_related("campaign").get(pk=link_id)
    return link, message_id


def link_click(*, link: CampaignLink, message_id: int) -> None:
    """A click: count it on the link and mark the message clicked (Кл)."""
    from .gateways.base import Receipt
    from .models import Message
    from .services import receipts_apply

    with transaction.atomic():
        CampaignLink.objects.filter(pk=link.pk).update(clicks=F("clicks") + 1)
        if Message.objects.filter(pk=message_id, campaign_id=link.campaign_id).exists():
            receipts_apply(
                channel=link.campaign.channel,
                receipts=[Receipt("clicked", message_id=message_id)],
            )


MAX_REPLY = 1000
MAX_REPLIES_PER_HOUR = 5


class TooManyReplies(Exception):
    pass


def chat_reply(*, link: CampaignLink, message_id: int, text: str) -> None:
    """A recipient's answer through the online-chat link (S14): the client
    sees it in the notifications centre."""
    from .models import Message

    # A token is a credential anyone holding the SMS has: cap replies per
    # message so a leaked link cannot flood the client's notifications.
    key = f"chat-reply:{link.pk}:{message_id}"
    limit = ratelimit.Limit(key, MAX_REPLIES_PER_HOUR)
    if ratelimit.reserve([limit], 3600) is not None:
        raise TooManyReplies
    message = Message.objects.filter(
        pk=message_id, campaign_id=link.campaign_id
    ).first()
    phone = message.phone if message else ""
    notify(
        account_id=link.campaign.account_id,
        title=f"Ответ на СМС от {phone}" if phone else "Ответ на СМС",
        body=text[:MAX_REPLY],
        kind=Notification.Kind.INFO,
        url=f"/reports/campaigns/{link.campaign_id}/",
    )
    if message is not None:
        # Announced like a carrier's reply (the online chat takes it into the
        # contact's conversation); each post through the link is a reply of its own.
        reply = {
            "account_id": link.campaign.account_id,
            "campaign_id": link.campaign_id,
            "message_id": message.pk,
            "phone": phone,
            "contact_id": message.contact_id,
            "sender": link.campaign.sender,
            "text": text[:MAX_REPLY],
            "external_id": f"link:{link.pk}:{message.pk}:{secrets.token_hex(8)}",
            "received_at": timezone.now(),
        }
        transaction.on_commit(
            lambda: replies_received.send(
                sender=CampaignLink, channel=link.campaign.channel, replies=[reply]
            )
        )


def target_url(link: CampaignLink) -> str:
    url = link.url
    if url.lower().startswith("www."):
        url = "http://" + url
    return url
