"""Campaign moderation (S8) and pre-approved moderation templates.

A campaign goes to staff (status "moderation", messages М) when the account is
new and not trusted (``Account.is_trusted`` is off and it has fewer than
``settings.MODERATION_TRUST_AFTER`` completed campaigns) or when its text looks
risky (URL shorteners, links to bare IP addresses, typical phishing and
gambling phrases) — unless the text matches one of the account's approved
moderation templates.  A template is a text with variable parts written
``[любая фраза]`` (e.g. ``Ваш код: [любая фраза]``); it is compiled to a
regular expression once and cached.

Staff decide templates through the one decision service,
``cabinet.moderation.decide`` (``template_decide``); campaign decisions and the
queues are in ``messaging.decisions``.
"""

import re
from functools import lru_cache

from django.conf import settings
from django.utils.translation import gettext as _

from cabinet import moderation as decisions

from .models import Campaign, ModerationTemplate

ANY_PHRASE = "[любая фраза]"
_ANY_RE = re.compile(r"\[\s*любая\s+фраза\s*\]", re.IGNORECASE)
MAX_TEMPLATE_LENGTH = 1000

# Public URL shorteners hide where a link leads: phishing's favourite tool.
SHORTENERS = (
    "bit.ly",
    "goo.gl",
    "tinyurl.com",
    "t.co",
    "clck.ru",
    "vk.cc",
    "cutt.ly",
    "is.gd",
    "ow.ly",
    "rebrand.ly",
    "u.to",
    "qps.ru",
    "lnkd.in",
    "tiny.cc",
    "shorturl.at",
    "rb.gy",
    "v.gd",
    "t.ly",
)
RISKY_PHRASES = (
    "ваша карта заблокирована",
    "карта заблокирована",
    "служба безопасности банка",
    "сообщите код",
    "назовите код",
    "продиктуйте код",
    "подтвердите перевод",
    "вы выиграли",
    "ваш выигрыш",
    "получите выигрыш",
    "приз ждет",
    "приз ждёт",
    "компенсация от государства",
    "положена выплата",
    "казино",
    "ставки на спорт",
    "букмекер",
    "займ без отказа",
    "кредит без отказа",
    "деньги до зарплаты",
    "заработок без вложений",
    "срочно перейдите",
    "ваш аккаунт будет удален",
    "ваш аккаунт будет удалён",
)
_SHORTENER_RE = re.compile(
    r"(?:https?://|www\.|\b)(?:"
    + "|".join(re.escape(d) for d in SHORTENERS)
    + r")/\S+",
    re.IGNORECASE,
)
_IP_URL_RE = re.compile(r"https?://\d{1,3}(?:\.\d{1,3}){3}", re.IGNORECASE)
_RISKY_RE = re.compile("|".join(re.escape(p) for p in RISKY_PHRASES), re.IGNORECASE)


class InvalidTemplate(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def risky_reason(text: str) -> str:
    """Why the text needs a moderator's look ("" when it does not)."""
    if _SHORTENER_RE.search(text):
        return _("ссылка через сервис сокращения ссылок")
    if _IP_URL_RE.search(text):
        return _("ссылка на IP-адрес")
    match = _RISKY_RE.search(text)
    if match:
        return _("подозрительная фраза «%(p)s»") % {"p": match.group(0)}
    return ""


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=2048)
def template_regex(text: str) -> re.Pattern:
    """``Ваш код: [любая фраза]`` → ``^Ваш\\ код:\\ (.+?)$``; whitespace runs
    match any whitespace run."""
    pieces = _ANY_RE.split(_normalise(text))
    literal = [re.escape(p).replace(r"\ ", r"\s+") for p in pieces]
    return re.compile("^" + "(.+?)".join(literal) + "$", re.DOTALL | re.IGNORECASE)


def matches_template(*, account_id: int, channel: str, text: str) -> bool:
    patterns = ModerationTemplate.objects.filter(
        account_id=account_id,
        channel=channel,
        status=ModerationTemplate.Status.APPROVED,
    ).values_list("text", flat=True)
    body = _normalise(text)
    return any(template_regex(p).match(body) for p in patterns)


def is_new_account(account) -> bool:
    if account.is_trusted:
        return False
    needed = getattr(settings, "MODERATION_TRUST_AFTER", 3)
    done = Campaign.objects.filter(account_id=account.pk, status=Campaign.Status.DONE)[
        :needed
    ].count()
    return done < needed


def trusted_sql(*, account: str, trust_after: str) -> str:
    """``not is_new_account`` compiled, for the row alias ``account`` of
    ``cabinet_account``; ``trust_after`` is the SQL of
    ``settings.MODERATION_TRUST_AFTER``."""
    return f"""({account}.is_trusted OR (
        SELECT count(*) FROM (
            SELECT 1 FROM messaging_campaign dc
            WHERE dc.account_id = {account}.id AND dc.status = 'done'
            LIMIT {trust_after}
        ) done
    ) >= {trust_after})"""


def needs_moderation(*, account, channel: str, text: str) -> bool:
    """Does a campaign with this text need staff approval before sending?"""
    risky = bool(risky_reason(text))
    if not risky and not is_new_account(account):
        return False
    return not matches_template(account_id=account.pk, channel=channel, text=text)


def moderation_reason(*, account, channel: str, text: str) -> str:
    """A human explanation of ``needs_moderation`` (for the admin queue)."""
    reason = risky_reason(text)
    if reason:
        return reason
    if is_new_account(account):
        return _("новый аккаунт")
    return ""


# --- moderation templates ---------------------------------------------------


def _clean_template_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidTemplate(_("Введите текст шаблона."))
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise InvalidTemplate(
            _("Текст шаблона длиннее %(n)s символов.") % {"n": MAX_TEMPLATE_LENGTH}
        )
    if _normalise(_ANY_RE.sub("", text)) == "":
        raise InvalidTemplate(
            _(
                "Шаблон не может состоять только из «любой фразы»: добавьте постоянный "
                "текст."
            )
        )
    return text


def template_create(*, account, text: str, channel: str = "sms") -> ModerationTemplate:
    return ModerationTemplate.objects.create(
        account_id=account.pk, channel=channel, text=_clean_template_text(text)
    )


def template_update(*, template: ModerationTemplate, text: str) -> ModerationTemplate:
    """A changed text goes back to moderation."""
    template.text = _clean_template_text(text)
    fields = template.reopen()
    template.save(update_fields=["text", *fields])
    return template


def template_decide(
    *,
    template: ModerationTemplate,
    approve: bool,
    reason_text: str = "",
    comment: str = "",
    staff_user=None,
) -> ModerationTemplate:
    """Staff decision on a template (a rejection needs ``reason_text``)."""
    return decisions.decide(
        item=template,
        approve=approve,
        reason_text=reason_text,
        comment=comment,
        staff_user=staff_user,
    ).item
