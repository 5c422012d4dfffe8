"""One settings module, read from the environment.

Nothing set gives the embedded default: SQLite (WAL) under ``var/`` and a Celery
broker on the filesystem, so ``make run`` works on a bare machine.  Set
``DATABASE_URL`` and ``REDIS_URL`` for PostgreSQL and Redis.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


DEBUG = env_bool("DEBUG", False)
# Development mode allows the published development secrets and the fake
# acquirer below.  ``make run`` turns it on; with it (and DEBUG) off the web
# server and the Celery processes refuse to start until real secrets are set
# (cabinet/deploy.py, README "Production").
DEVELOPMENT = DEBUG or env_bool("DEVELOPMENT", False)
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY") or DEV_SECRET_KEY
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The public address of the cabinet, used in short links, e-mails and callbacks.
# Unset, it follows the port ``make run`` serves (``PORT=8611 make run``).
SITE_URL = (
    os.environ.get("SITE_URL", "").strip()
    or f"http://127.0.0.1:{os.environ.get('PORT', '').strip() or 8000}"
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "cabinet",
    "billing",
    "contacts",
    "messaging",
    "voice",
    "viber",
    "social",
    "scenarios",
    "partners",
    "events",
    "reports",
    "integrations",
    "promo",
    "staff",
    "channels",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "cabinet.i18n.RussianByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the language is chosen: its 400 page speaks the user's language.
    "cabinet.api.middleware.RefuseNulInQueryMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cabinet.middleware.AccountMiddleware",
]

ROOT_URLCONF = "cabinet.urls"
WSGI_APPLICATION = "cabinet.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "cabinet.context_processors.shell",
            ],
            # One money format on every page: {{ value|money }}.
            "builtins": ["cabinet.templatetags.formats"],
        },
    }
]

# --- Database -------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Broker, cache --------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_PREFIX", "cabinet"),
        }
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "broker"
    (_broker_dir / "queue").mkdir(parents=True, exist_ok=True)
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Survives a broker restart while tasks are unacknowledged (cabinet/worker.py).
CELERY_WORKER_CONSUMER = "cabinet.worker:Consumer"

# --- Auth -----------------------------------------------------------------
AUTH_USER_MODEL = "cabinet.User"
LOGIN_URL = "cabinet:login"
LOGIN_REDIRECT_URL = "cabinet:dashboard"
LOGOUT_REDIRECT_URL = "cabinet:login"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"  # noqa: E501
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS (README "Production"): redirect plain HTTP, HSTS, and — behind a proxy
# that terminates TLS — trust its X-Forwarded-Proto.  The health check stays
# reachable over plain HTTP for the container's own probe.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- I18N -----------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Русский")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True

# --- Static, media, uploads -------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
# Largest file a user may upload (imports, audio, letters).
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", 20 * 1024 * 1024))
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Online chat (chat/, docs/CHAT.md) --------------------------------------
# The widget and the operator console talk over WebSockets (Django Channels under
# uvicorn, cabinet/asgi.py).  Processes share chat events through Redis when
# REDIS_URL is set; the embedded default keeps them in the one web process.
ASGI_APPLICATION = "cabinet.asgi.application"
if REDIS_URL:
    # Redis pub/sub: each process keeps its sockets' groups itself and holds one
    # subscription connection.  The list-based RedisChannelLayer blocked a Redis
    # read per waiting socket and dropped sockets under 500 widgets (bench chat).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": os.environ.get("CACHE_PREFIX", "cabinet") + ":asgi",
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Where browsers open the chat's WebSockets: empty means the page's own server
# (make run, one uvicorn process); docker-compose points it at the realtime service.
CHAT_WS_URL = os.environ.get("CHAT_WS_URL", "").strip().rstrip("/")
# The full version of the online chat, bought by the month (roubles).
CHAT_FULL_PLAN_PRICE = os.environ.get("CHAT_FULL_PLAN_PRICE", "990.00")

# --- E-mail -----------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "cabinet@localhost")

# --- Messaging ----------------------------------------------------------------
# Carriers by dotted path, like EMAIL_BACKEND.  A real carrier is a new class
# and a change here.  ``mode``: "async" sends receipts later through Celery,
# "instant" applies them at once (benchmarks), "manual" leaves them to tests.
MESSAGING_GATEWAYS = {
    "sms": {
        "BACKEND": os.environ.get(
            "SMS_GATEWAY", "messaging.gateways.fake.FakeSmsGateway"
        ),
        "OPTIONS": {
            "mode": os.environ.get("FAKE_GATEWAY_MODE", "async"),
            "receipt_delay_seconds": float(os.environ.get("FAKE_RECEIPT_DELAY", "2")),
            "rate_per_second": int(os.environ.get("FAKE_GATEWAY_RATE", "0")),
            # SMS_GATEWAY=messaging.gateways.smpp.SmppGateway: a real carrier
            # over SMPP 3.4 (README «SMPP»; each option may also be a query
            # parameter of SMPP_URL).
            "url": os.environ.get("SMPP_URL", ""),
            "system_type": os.environ.get("SMPP_SYSTEM_TYPE", ""),
            "bind": os.environ.get("SMPP_BIND", ""),
            "source_ton": os.environ.get("SMPP_SOURCE_TON", ""),
            "source_npi": os.environ.get("SMPP_SOURCE_NPI", ""),
            "throughput": os.environ.get("SMPP_THROUGHPUT", ""),
            "window": os.environ.get("SMPP_WINDOW", ""),
            "binds": os.environ.get("SMPP_BINDS", ""),
            "long_texts": os.environ.get("SMPP_LONG_TEXTS", ""),
            "enquire_link_seconds": os.environ.get("SMPP_ENQUIRE_LINK_SECONDS", ""),
            "unknown_resolve_seconds": os.environ.get(
                "SMPP_UNKNOWN_RESOLVE_SECONDS", ""
            ),
            "unknown_rule": os.environ.get("SMPP_UNKNOWN_RULE", ""),
        },
    },
    # Viber (viber/): the fake carrier's share of numbers without Viber, of
    # spam, and of delivered messages seen, clicked, replied to, unsubscribed
    # (viber/gateways.py); the provider's free shared sender names.
    "viber": {
        "BACKEND": os.environ.get("VIBER_GATEWAY", "viber.gateways.FakeViberGateway"),
        "OPTIONS": {
            "mode": os.environ.get("FAKE_GATEWAY_MODE", "async"),
            "receipt_delay_seconds": float(os.environ.get("FAKE_RECEIPT_DELAY", "2")),
            "rate_per_second": int(os.environ.get("FAKE_GATEWAY_RATE", "0")),
            "rates": {
                "not_viber_user": float(os.environ.get("FAKE_VIBER_NOT_USER", "0.1")),
                "spam": 0.005,
                "seen": 0.7,
                "unsubscribed": 0.01,
                "clicked": 0.15,
                "replied": 0.03,
            },
        },
        "SHARED_SENDERS": ["SMSinfo", "Akcii", "Servis-Info"],
    },
}
# /healthz reports these too (carrier links: messaging.health).
HEALTH_CHECKS = ["messaging.health.gateways"]
# A claim (status "sending") older than this is taken as lost with its worker and
# re-submitted; the gateway de-duplicates by message id.
MESSAGING_STALE_CLAIM_SECONDS = int(
    os.environ.get("MESSAGING_STALE_CLAIM_SECONDS", 120)
)
# Messages claimed per dispatch batch.
MESSAGING_DISPATCH_BATCH = int(os.environ.get("MESSAGING_DISPATCH_BATCH", 1000))
DEFAULT_SENDER_NAME = os.environ.get("DEFAULT_SENDER_NAME", "SMSinfo")

# --- API ------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cabinet.api.authentication.TokenAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "cabinet.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Cabinet API",
    "DESCRIPTION": "REST API v1 of the bulk-messaging cabinet. "
    "Authenticate with `Authorization: Token <key>` (a key from the API page).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

CELERY_BEAT_SCHEDULE = {
    "dispatch-due-messages": {
        "task": "messaging.tasks.dispatch_all",
        "schedule": float(os.environ.get("DISPATCH_INTERVAL", "5")),
    },
    # Scenario hops whose decision time came (scenarios/engine.py): the
    # interval bounds how late a fallback goes after its decision time.
    "scenarios-sweep": {
        "task": "scenarios.tasks.sweep",
        "schedule": float(os.environ.get("SCENARIO_SWEEP_INTERVAL", "2")),
    },
}
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)

# --- API, integrations (issue #7: tokens, REST v1, JSON API v1.0, webhooks) ------
REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] = (
    "cabinet.api.pagination.ApiCursorPagination"
)
REST_FRAMEWORK["PAGE_SIZE"] = 50
REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"] = [
    "rest_framework.permissions.IsAuthenticated",
    "cabinet.api.permissions.HasRestScope",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "cabinet.api.throttling.TokenRateThrottle"
]
# Requests per token: "<n>/<s|m|h|d>" (a fixed window counted in the cache).
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "20000/m")
# Messages (or ids) in one JSON API v1.0 request.
COMPAT_MAX_MESSAGES = int(os.environ.get("COMPAT_MAX_MESSAGES", 10000))
# One-message sends of the JSON API v1.0 served in one round trip in front of
# Django (integrations/fastlane.py); PostgreSQL only, "0" turns it off.
COMPAT_FAST_LANE = os.environ.get("COMPAT_FAST_LANE", "1") != "0"
# Dispatch tasks per channel per process at most once per this many seconds
# (plus a trailing one) when many single messages arrive (messaging.prepare).
DISPATCH_NUDGE_INTERVAL = float(os.environ.get("DISPATCH_NUDGE_INTERVAL", "0.25"))
# Webhooks: HTTP timeout (s), events per POST, attempts before giving up, and
# whether URLs may point at loopback/private addresses (tests, on-premise).
WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", 5))
WEBHOOK_BATCH_SIZE = int(os.environ.get("WEBHOOK_BATCH_SIZE", 100))
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", 8))
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
MIDDLEWARE.append("cabinet.api.middleware.ApiErrorMiddleware")
CELERY_BEAT_SCHEDULE["sweep-unconfirmed"] = {
    "task": "messaging.tasks.sweep_unconfirmed",
    "schedule": float(os.environ.get("SWEEP_INTERVAL", "300")),
}
# Hand-overs to a carrier link (SMPP) settled long ago are dropped daily; their
# carrier ids stay on the messages.
CELERY_BEAT_SCHEDULE["purge-handovers"] = {
    "task": "messaging.tasks.purge_handovers",
    "schedule": 86400.0,
}
CELERY_BEAT_SCHEDULE["deliver-webhooks"] = {
    "task": "integrations.tasks.webhooks_deliver_due",
    "schedule": float(os.environ.get("WEBHOOK_INTERVAL", "5")),
}
CELERY_BEAT_SCHEDULE["purge-webhooks"] = {
    "task": "integrations.tasks.webhooks_purge",
    "schedule": 24 * 3600.0,
}
SPECTACULAR_SETTINGS["DESCRIPTION"] = (
    "REST API v1 of the bulk-messaging cabinet. Authenticate with "
    "`Authorization: Token <key>` (a key from the cabinet's API page, scope "
    "«Рассылка сообщений» or «Личный кабинет»).\n\n"
    '**Errors** always have one shape: `{"error": {"code": "<machine code>", '
    '"message": "<text>", "fields": {...}}}` (400 validation_error / parse_error, '
    "401 not_authenticated / authentication_failed, 402 insufficient_funds, "
    "403 permission_denied, 404 not_found, 405 method_not_allowed, "
    "415 unsupported_media_type, 429 throttled with `Retry-After`, 500 server_error).\n\n"  # noqa: E501
    "**Lists** use cursor pagination: `?limit=` (1–500) and the `next`/`previous` URLs."
)
# The docs page's Swagger UI is served from our static files, never a CDN.
SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"] = "SIDECAR"
SPECTACULAR_SETTINGS["SWAGGER_UI_FAVICON_HREF"] = "SIDECAR"
SPECTACULAR_SETTINGS["REDOC_DIST"] = "SIDECAR"
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "cabinet.api.schema.add_error_responses",
    "cabinet.api.schema.add_examples",
]
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "MessageStatusEnum": "messaging.models.MessageStatus",
    "CampaignStatusEnum": "messaging.models.Campaign.Status",
}
# --- end API, integrations ----------------------------------------------------------

# --- Billing (billing/, issue #6) ---------------------------------------------
# The acquirer for card and e-wallet payments, like a gateway: a dotted path and
# options.  The fake one delivers its signed callback "direct" (in-process) or
# over "http" to BILLING_ACQUIRER_CALLBACK_URL.
# ``BILLING_ACQUIRER`` unset ("") means the fake acquirer, for development only
# (cabinet/deploy.py refuses it in production); "none" turns card and e-wallet
# payments off (invoices only).
BILLING_ACQUIRER = {
    "BACKEND": os.environ.get("BILLING_ACQUIRER", "").strip(),
    "OPTIONS": {"delivery": os.environ.get("BILLING_ACQUIRER_DELIVERY", "direct")},
}
# The key the acquirer signs its callbacks with: its own secret, never derived
# from SECRET_KEY (whoever knows it can credit any account).
DEV_ACQUIRER_SECRET = "dev-insecure-acquirer-secret"
BILLING_ACQUIRER_SECRET = (
    os.environ.get("BILLING_ACQUIRER_SECRET") or DEV_ACQUIRER_SECRET
)
BILLING_ACQUIRER_CALLBACK_URL = os.environ.get(
    "BILLING_ACQUIRER_CALLBACK_URL", "http://127.0.0.1:8000/billing/acquirer/callback/"
)
# The provider's own requisites printed on invoices and acts.
BILLING_SUPPLIER = {
    "organisation": os.environ.get("BILLING_SUPPLIER_NAME", "ООО «СМС Инфо»"),
    "inn": os.environ.get("BILLING_SUPPLIER_INN", "7707083893"),
    "kpp": os.environ.get("BILLING_SUPPLIER_KPP", "773601001"),
    "address": os.environ.get(
        "BILLING_SUPPLIER_ADDRESS", "117312, г. Москва, ул. Вавилова, д. 19"
    ),
    "bank_name": os.environ.get("BILLING_SUPPLIER_BANK", "ПАО Сбербанк"),
    "bic": os.environ.get("BILLING_SUPPLIER_BIC", "044525225"),
    "settlement_account": os.environ.get(
        "BILLING_SUPPLIER_ACCOUNT", "40702810938000000001"
    ),
    "correspondent_account": os.environ.get(
        "BILLING_SUPPLIER_CORR", "30101810400000000225"
    ),
    "director": os.environ.get("BILLING_SUPPLIER_DIRECTOR", "Иванов И. И."),
}
# Support: where copies of new tickets go (staff mailbox).
SUPPORT_EMAIL = os.environ.get("SUPPORT_EMAIL", "support@localhost")
# Two-step sign-in codes: lifetime, attempts per code, codes per user per window.
LOGIN_CODE_TTL_SECONDS = int(os.environ.get("LOGIN_CODE_TTL_SECONDS", 300))
LOGIN_CODE_MAX_ATTEMPTS = 5
LOGIN_CODE_RATE = (3, 600)  # at most 3 codes per 10 minutes per user
# The notification transport that sends service texts (sign-in codes, payment SMS):
# a code registered in cabinet.notifications (messaging registers "sms").
SERVICE_TEXT_TRANSPORT = os.environ.get("SERVICE_TEXT_TRANSPORT", "sms")
# Sign-in brute force (cabinet/security.py): failed passwords — and, separately,
# failed two-step codes — per account and per client address within the window;
# past them the account or address is locked for the window, each further lock
# of the day twice as long (at most a day).
SIGNIN_FAILURES_PER_ACCOUNT = int(os.environ.get("SIGNIN_FAILURES_PER_ACCOUNT", 5))
# Two codes' worth of attempts (LOGIN_CODE_MAX_ATTEMPTS each) before the lock.
SIGNIN_CODE_FAILURES_PER_USER = int(os.environ.get("SIGNIN_CODE_FAILURES_PER_USER", 10))
SIGNIN_FAILURES_PER_IP = int(os.environ.get("SIGNIN_FAILURES_PER_IP", 20))
SIGNIN_THROTTLE_WINDOW = int(os.environ.get("SIGNIN_THROTTLE_WINDOW", 900))
# Card/e-wallet payments left on the acquirer's page for a day become failed.
CELERY_BEAT_SCHEDULE["billing-payments-expire"] = {
    "task": "billing.tasks.payments_expire",
    "schedule": 3600.0,
}
# --- end Billing ----------------------------------------------------------------

# --- Promo (promo coupons and the code check page) -------------------------------
# Failed promo-code guesses (unknown codes) and failed check-page sign-ins allowed
# per window, counted in the cache; past them a clear message and HTTP 429.
PROMO_THROTTLE_WINDOW = int(os.environ.get("PROMO_THROTTLE_WINDOW", 900))
PROMO_CHECK_FAILURES_PER_MANAGER = 10
PROMO_CHECK_FAILURES_PER_ACCOUNT = 30  # API callers (per account)
PROMO_CHECK_FAILURES_PER_IP = 30
PROMO_LOGIN_FAILURES_PER_LOGIN = 5
PROMO_LOGIN_FAILURES_PER_IP = 20
CELERY_BEAT_SCHEDULE["promo-reminders"] = {
    "task": "promo.tasks.promo_reminders",
    "schedule": float(os.environ.get("PROMO_REMINDERS_INTERVAL", "600")),
}
# --- end Promo -------------------------------------------------------------------

# --- SMS compose (sender names, moderation, short links, scheduler) --------------
# An account that is not marked trusted is "new" until this many of its
# campaigns have completed: until then its campaigns go to moderation (S8).
MODERATION_TRUST_AFTER = int(os.environ.get("MODERATION_TRUST_AFTER", 3))
# Short links (S5) are <SHORT_LINK_BASE>/s/<token>; SITE_URL when empty.
SHORT_LINK_BASE = os.environ.get("SHORT_LINK_BASE", "").rstrip("/")
# Where the "Получать ответ в Online-чат" link leads (S14): our own reply page
# at /s/<token> unless an external chat URL is configured.
CHAT_REPLY_URL = os.environ.get("CHAT_REPLY_URL", "")
# The scheduler's and greetings' task lives in messaging/scheduling.py.
CELERY_IMPORTS = [*globals().get("CELERY_IMPORTS", []), "messaging.scheduling"]
CELERY_BEAT_SCHEDULE["sms-schedules"] = {
    "task": "messaging.scheduling.run_due",
    "schedule": float(os.environ.get("SCHEDULER_INTERVAL", "60")),
}
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["DecisionStatusEnum"] = (
    "messaging.models.content.Decision"
)
# --- end SMS compose ---------------------------------------------------------------

# --- Contacts (phonebook, SPEC section 1) -------------------------------------
# Deleted groups stay restorable in the trash this many days (C9).
CONTACTS_TRASH_RETENTION_DAYS = int(os.environ.get("CONTACTS_TRASH_RETENTION_DAYS", 30))
# Largest spreadsheet (rows) one import accepts (C5).
CONTACTS_IMPORT_MAX_ROWS = int(os.environ.get("CONTACTS_IMPORT_MAX_ROWS", 1_000_000))
CELERY_BEAT_SCHEDULE["contacts-trash-purge"] = {
    "task": "contacts.tasks.trash_purge",
    "schedule": 3600.0,
}

# --- Voice and CallPassword (SPEC V1–V2, W1; docs/VOICE.md) -----------------------
# Calls go through the fake voice carrier (outcomes by number, asynchronous
# results) or, with VOICE_GATEWAY=voice.sip.SipVoiceGateway, a real SIP trunk:
# INVITE to VOICE_SIP_TRUNK ("host:port"), audio over RTP, RFC 2833 digits.
MESSAGING_GATEWAYS["voice"] = {
    "BACKEND": os.environ.get("VOICE_GATEWAY", "voice.gateways.FakeVoiceGateway"),
    "OPTIONS": {
        "mode": os.environ.get("FAKE_GATEWAY_MODE", "async"),
        "receipt_delay_seconds": float(os.environ.get("FAKE_RECEIPT_DELAY", "2")),
        "trunk": os.environ.get("VOICE_SIP_TRUNK", "127.0.0.1:5060"),
        "local_ip": os.environ.get("VOICE_SIP_LOCAL_IP", "127.0.0.1"),
        "domain": os.environ.get("VOICE_SIP_DOMAIN", ""),
        "ring_seconds": float(os.environ.get("VOICE_RING_SECONDS", "30")),
        "max_calls": int(os.environ.get("VOICE_MAX_CALLS", "20")),
    },
}
# Uploads: at most this many bytes and seconds; a synthesised text at most this
# many characters.
VOICE_MAX_UPLOAD_BYTES = int(os.environ.get("VOICE_MAX_UPLOAD_BYTES", 10 * 2**20))
VOICE_MAX_SECONDS = int(os.environ.get("VOICE_MAX_SECONDS", 300))
VOICE_TTS_MAX_CHARS = int(os.environ.get("VOICE_TTS_MAX_CHARS", 2000))
# CallPassword: how long a code is valid, calls per recipient number per 10
# minutes and per account per minute.
CALLPASSWORD_CODE_TTL = int(os.environ.get("CALLPASSWORD_CODE_TTL", 300))
CALLPASSWORD_PER_NUMBER = int(os.environ.get("CALLPASSWORD_PER_NUMBER", 3))
CALLPASSWORD_PER_ACCOUNT = int(os.environ.get("CALLPASSWORD_PER_ACCOUNT", 600))

# --- VK and OK (SPEC K1; docs/SOCIAL.md) -------------------------------------------
# The fake notification services of VK and OK (social/gateways.py): outcomes by
# number, asynchronous callbacks, shares of numbers not on the network and of
# delivered messages seen / clicked / unsubscribed.
for _code, _backend in (
    ("vk", os.environ.get("VK_GATEWAY", "social.gateways.FakeVkGateway")),
    ("ok", os.environ.get("OK_GATEWAY", "social.gateways.FakeOkGateway")),
):
    MESSAGING_GATEWAYS[_code] = {
        "BACKEND": _backend,
        "OPTIONS": {
            "mode": os.environ.get("FAKE_GATEWAY_MODE", "async"),
            "receipt_delay_seconds": float(os.environ.get("FAKE_RECEIPT_DELAY", "2")),
            "rate_per_second": int(os.environ.get("FAKE_GATEWAY_RATE", "0")),
            "rates": {"not_user": 0.1, "inactive": 0.02, "seen": 0.6,
                      "clicked": 0.1, "unsubscribed": 0.01},
        },
    }
# Messages one group may send one recipient a day; the signed letter's size.
SOCIAL_DAILY_LIMIT = int(os.environ.get("SOCIAL_DAILY_LIMIT", 3))
SOCIAL_LETTER_MAX_BYTES = int(os.environ.get("SOCIAL_LETTER_MAX_BYTES", 5 * 2**20))

# --- Notifications in messengers (SPEC N1; docs/SOCIAL.md) ------------------------
# Outgoing bot messages: a gateway per messenger (dotted path), the fake one
# unless set; MESSENGER_TELEGRAM_GATEWAY=social.bots.TelegramBotGateway sends
# through the Telegram Bot API with TELEGRAM_BOT_TOKEN.
MESSENGER_GATEWAYS = {
    m: os.environ.get(
        f"MESSENGER_{m.upper()}_GATEWAY", "social.bots.FakeMessengerGateway"
    )
    for m in ("telegram", "viber", "vk", "ok")
}
TELEGRAM_BOT_TOKEN = os.environ.get("TELEGRAM_BOT_TOKEN", "")
TELEGRAM_API_URL = os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org")
# Webhook verification: each empty secret refuses every call of its messenger.
TELEGRAM_WEBHOOK_SECRET = os.environ.get("TELEGRAM_WEBHOOK_SECRET", "")
VIBER_BOT_TOKEN = os.environ.get("VIBER_BOT_TOKEN", "")
VK_CALLBACK_SECRET = os.environ.get("VK_CALLBACK_SECRET", "")
VK_CONFIRMATION_CODE = os.environ.get("VK_CONFIRMATION_CODE", "")
OK_WEBHOOK_SECRET = os.environ.get("OK_WEBHOOK_SECRET", "")
# The other bots' APIs (social.bots.ViberBotGateway, VkBotGateway, OkBotGateway).
VIBER_API_URL = os.environ.get("VIBER_API_URL", "https://chatapi.viber.com/pa")
VIBER_BOT_NAME = os.environ.get("VIBER_BOT_NAME", "Cabinet")
VK_BOT_TOKEN = os.environ.get("VK_BOT_TOKEN", "")
VK_API_URL = os.environ.get("VK_API_URL", "https://api.vk.com/method")
OK_BOT_TOKEN = os.environ.get("OK_BOT_TOKEN", "")
OK_API_URL = os.environ.get("OK_API_URL", "https://api.ok.ru/graph")
MESSENGER_BOT_LINKS = {
    "telegram": os.environ.get("TELEGRAM_BOT_LINK", "https://t.me/cabinet_notify_bot"),
    "viber": os.environ.get("VIBER_BOT_LINK", "viber://pa?chatURI=cabinet_notify"),
    "vk": os.environ.get("VK_BOT_LINK", "https://vk.me/cabinet_notify"),
    "ok": os.environ.get("OK_BOT_LINK", "https://ok.ru/group/cabinet_notify"),
}
MESSENGER_CODE_TTL = int(os.environ.get("MESSENGER_CODE_TTL", 600))

# --- events (issue #20, docs/EVENTS.md) ----------------------------------------------
# Contact dates, finished campaigns, webhook retries and any event left pending.
CELERY_BEAT_SCHEDULE["events-sweep"] = {
    "task": "events.tasks.events_sweep",
    "schedule": float(os.environ.get("EVENTS_SWEEP_INTERVAL", "30")),
}
