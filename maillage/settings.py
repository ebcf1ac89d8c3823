"""Maillage settings: one module, read from the environment (12-factor).

Every deployment-specific value comes from an environment variable with a
safe local default, so `make demo` and `make test` run on a fresh machine
with nothing configured, and production sets the variables listed in the
README. Tests override a handful of values in `tests/conftest.py`, not here.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("MAILLAGE_REQUIRE_SECRET_KEY", False):
        raise RuntimeError("SECRET_KEY must be set in production")
    # Local runs only: production sets SECRET_KEY (see README, "Production").
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"  # noqa: S105 - local runs only

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Before allauth so that frontend/templates/{allauth,account,mfa}/ override its templates.
    "frontend",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "channels",
    "matchmaking",
    "search",
    "messaging",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "frontend.middleware.PreferredLanguageMiddleware",
]

ROOT_URLCONF = "maillage.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "frontend.context_processors.navigation",
            ],
        },
    },
]

ASGI_APPLICATION = "maillage.asgi.application"
# Threads answering HTTP requests in each server process (see maillage/asgi.py).
HTTP_THREADS = int(os.environ.get("HTTP_THREADS", "10"))

# --- Database --------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'maillage.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL", True):
    # Requests run in a pool of threads, websocket consumers in threads of their own: one
    # connection pool per process (psycopg_pool, Django's built-in support) shares the
    # connections among them. Before it, each request paid a new PostgreSQL connection
    # (a fifth of an API request's CPU). Keep max_size >= HTTP_THREADS.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "10")),
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
    }
# The statements every API request runs (maillage/db.py) are prepared on PostgreSQL; turn
# this off behind a connection pooler in transaction mode that cannot keep them (PgBouncer < 1.21).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the ASGI server read while a write is in flight; the timeout
    # makes concurrent writers wait instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "matchmaking.User"

# --- Redis and channels ----------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # Pub/sub layer: one PUBLISH per group send and one reader per process
    # that fans out locally, where the list-based core layer pops messages
    # one by one under a lock 1,000 consumers contend for (see
    # tests/benchmarks/bench_messaging.py). Delivery is at most once; the
    # messaging protocol recovers gaps from the database (messaging/consumers.py).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "maillage")},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "maillage.cache.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "maillage",
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rate-limit counters live in Redis by user id (maillage/ratelimit.py): deployments sharing
# one Redis keep them apart with different namespaces.
RATE_LIMIT_NAMESPACE = os.environ.get("RATE_LIMIT_NAMESPACE", "")

# --- Elasticsearch ---------------------------------------------------------
# Empty URL: the search app provisions and starts a local node (see
# search/node.py). Otherwise the external cluster below is used as is.
ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL", "")
ELASTICSEARCH_API_KEY = os.environ.get("ELASTICSEARCH_API_KEY", "")
ELASTICSEARCH_USERNAME = os.environ.get("ELASTICSEARCH_USERNAME", "")
ELASTICSEARCH_PASSWORD = os.environ.get("ELASTICSEARCH_PASSWORD", "")
ELASTICSEARCH_CA_CERTS = os.environ.get("ELASTICSEARCH_CA_CERTS", "")
ELASTICSEARCH_INDEX_PREFIX = os.environ.get("ELASTICSEARCH_INDEX_PREFIX", "maillage")
# Replicas of new search indices (0 suits the single local node; 1+ on a production cluster).
ELASTICSEARCH_NUMBER_OF_REPLICAS = int(os.environ.get("ELASTICSEARCH_NUMBER_OF_REPLICAS", "0"))
# Where the local node's distribution, plugin and data live (outside the repo).
MAILLAGE_CACHE_DIR = Path(os.environ.get("MAILLAGE_CACHE_DIR", Path.home() / ".cache" / "maillage")).expanduser()

# Real EU project data (CORDIS) read by `manage.py import_cordis` and seed_demo.
CORDIS_DATA_DIR = Path(os.environ.get("CORDIS_DATA_DIR", BASE_DIR.parent / "shared" / "data" / "cordis")).expanduser()

# --- Passwords and accounts ------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "matchmaking.forms.SignupExtraForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Maillage] "
if env_bool("MAILLAGE_DISABLE_RATE_LIMITS"):
    ACCOUNT_RATE_LIMITS = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Maillage"
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "account_login"

# --- Email -----------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Maillage <no-reply@maillage.localhost>")

# --- Matchmaking funnel ----------------------------------------------------
# Introduction requests one organization may send per rolling 24 hours.
INTRODUCTIONS_PER_DAY = int(os.environ.get("INTRODUCTIONS_PER_DAY", "10"))
# Unanswered requests expire after this many days; a reminder goes out before.
INTRODUCTION_EXPIRY_DAYS = int(os.environ.get("INTRODUCTION_EXPIRY_DAYS", "21"))
INTRODUCTION_REMINDER_DAYS_BEFORE = int(os.environ.get("INTRODUCTION_REMINDER_DAYS_BEFORE", "3"))

# --- I18n ------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
# A website typed without a scheme ("example.ma") becomes https://, Django 6's default.
FORMS_URLFIELD_ASSUME_HTTPS = True

# --- Static files ----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security (production hardening is switched on by DEBUG=false) --------
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
X_FRAME_OPTIONS = "DENY"
# Bodies above this size are refused with 400 before any view parses them.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- REST framework --------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: DRF answers a request without valid credentials with the first class's
    # challenge, so "401 + WWW-Authenticate: Token" (as documented) rather than a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "maillage.api.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "maillage.api.Pagination",
    "DEFAULT_RENDERER_CLASSES": [
        "maillage.api.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "PAGE_SIZE": 25,
    # DRF's parsers with a body-size limit and strict decoding (see maillage/api.py).
    "DEFAULT_PARSER_CLASSES": [
        "maillage.api.JSONParser",
        "maillage.api.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "maillage.throttling.AnonRateThrottle",
        "maillage.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "120/hour"),
        "user": os.environ.get("API_THROTTLE_USER", "5000/hour"),
        # Obtaining a token with a password: slows password guessing down.
        "auth-token": os.environ.get("API_THROTTLE_TOKEN", "10/minute"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "maillage.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Maillage API",
    "DESCRIPTION": "Cross-cluster innovation matchmaking: clusters, organizations, "
    "memberships, calls, search, messaging.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No validator badge: it would fetch from a third-party host.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "kind" or "role" with different choices: name each set once.
    "ENUM_NAME_OVERRIDES": {
        "OrganizationKindEnum": "matchmaking.models.OrganizationKind",
        "OpportunityKindEnum": "matchmaking.models.OpportunityKind",
        "OrganizationRoleEnum": "matchmaking.models.OrganizationRole",
        "StaffRoleEnum": "matchmaking.models.StaffRole",
        "MembershipStatusEnum": "matchmaking.models.MembershipStatus",
        "IntroductionStateEnum": "matchmaking.models.IntroductionState",
        "PartnerStateEnum": "matchmaking.models.PartnerState",
        "EligibilityRuleStatusEnum": ["met", "unmet", "warning"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"elastic_transport": {"level": "WARNING"}},
}
