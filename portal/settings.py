"""The portal's one settings module, configured by environment variables.

Defaults give a working local portal with nothing else installed (SQLite, Celery tasks run in-process, email
printed to the console) when ``DJANGO_DEBUG=1``. With debug off, ``SECRET_KEY``, ``ALLOWED_HOSTS`` and
``SITE_URL`` are required. The README lists every variable.
"""

from pathlib import Path

from portal.env import env_bool, env_database, env_email, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)

if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", "insecure-local-development-key-not-for-production-use-0123456789")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
    SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000")
else:
    SECRET_KEY = env_str("SECRET_KEY", required=True)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", required=True)
    SITE_URL = env_url("SITE_URL", required=True)

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])
# What the portal calls itself in the account emails (their text, signature and subject prefix).
PORTAL_NAME = env_str("PORTAL_NAME", "CME Portal")

INSTALLED_APPS = [
    "portal.apps.PortalConfig",
    "activities.apps.ActivitiesConfig",
    "learners.apps.LearnersConfig",
    "assessments.apps.AssessmentsConfig",
    "attendance.apps.AttendanceConfig",
    "portal.apps.PortalAdminConfig",  # django.contrib.admin with the portal's site (portal/sites.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "allauth",
    "allauth.account",
]

MIDDLEWARE = [
    "portal.middleware.RequestSizeLimitMiddleware",
    "portal.middleware.RefuseNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.site",
            ],
        },
    },
]

# Database: SQLite in the project by default; PostgreSQL (psycopg 3) with DATABASE_URL=postgres://...
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "portal.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "learners:dashboard"

# Accounts (django-allauth): the email address is the login and must be verified before the first login.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "learners.forms.SignupForm"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{PORTAL_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
# allauth's rate limits stay at their defaults (failed logins: 10 a minute per client address and 5 in 5
# minutes per account; signups, password resets, confirmations); the admin's sign-in shares them
# (portal/sites.py), and the public certificate lookup has its own, ``verify_lookup``.
ACCOUNT_RATE_LIMITS = {"verify_lookup": "30/m/ip"}
# Which address is the client's: behind a load balancer every request comes from the balancer, and a limit
# keyed on it would lock everyone out at once. TRUSTED_PROXY_COUNT is how many proxies you run in front of
# the portal, each appending to X-Forwarded-For: the client's address is the entry that many places from the
# right. Or TRUSTED_CLIENT_IP_HEADER names the header your proxy sets to the client's address (X-Real-IP,
# CF-Connecting-IP). Neither header is trusted by default: a client can send either.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env_str("TRUSTED_CLIENT_IP_HEADER")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# ``default`` holds what every process must share: allauth's rate-limit counters (sign-in, sign-up, password
# reset, the admin's sign-in, the public certificate lookup). With CACHE_URL (redis://host:6379/2), or else a
# Redis CELERY_BROKER_URL, it is that Redis, so the limits hold across processes and machines and survive a
# restart; without either it is this process's memory (a local portal). ``fragments`` is per process:
# rendered catalog cards, whose keys carry the catalog token, so a change makes new keys and old entries age
# out.
_shared_cache_url = env_str("CACHE_URL") or (
    _broker if (_broker := env_str("CELERY_BROKER_URL", "")).startswith(("redis://", "rediss://")) else None
)
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _shared_cache_url,
            # CACHE_KEY_PREFIX keeps two portals sharing one Redis apart.
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "cme"),
            # A Redis that does not answer must not hang a sign-in for long.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
        if _shared_cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"}
    ),
    "fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "fragments",
        "TIMEOUT": 3600,
        "OPTIONS": {"MAX_ENTRIES": 20000},
    },
}

# Uploaded listing files are read in memory; refuse absurd uploads early.
DATA_UPLOAD_MAX_NUMBER_FILES = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# REQUEST_MAX_BODY_BYTES: the largest request body accepted, in bytes; a larger one is answered 413 before it
# is read (portal.middleware). The default, 64 MiB, takes the admin's "Import listings" with its 1,000 files
# at once (listing files are a few KiB; the importer allows 1 MiB per file, so a batch of large ones goes in
# several uploads) and the 5 MB returned registry file. At least 6 MiB, so that file always fits.
REQUEST_MAX_BODY_BYTES = env_int("REQUEST_MAX_BODY_BYTES", 64 * 1024 * 1024, minimum=6 * 1024 * 1024)

# Content-Security-Policy on every response (django-csp): scripts, styles, images and fonts from the site
# itself, requests (the admin's autocomplete) to it, forms posted to it, no plugins, no framing. No inline
# script or style runs (tests/security/test_csp.py fails if a template gains one); the catalog's JSON-LD
# block is data, which the policy does not concern.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Email: EMAIL_URL (smtp+tls://user:password@host:587, smtp+ssl://...:465, smtp://...:25), or EMAIL_HOST and
# friends, else the console.
_email = env_email("EMAIL_URL")
if _email is not None:
    vars().update(_email)
elif env_str("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CME Portal <no-reply@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# A certificate email the mail server could not take waits this long before its first retry, then twice as
# long each time (at most 30 minutes). Constants: the integration tests' worker shortens them.
CERTIFICATE_EMAIL_BACKOFF_SECONDS = 30
CERTIFICATE_EMAIL_BACKOFF_MAX_SECONDS = 1800
# A worker sending a certificate email holds it for this long, renewing the hold every quarter of it while
# the send runs; a worker that dies mid-send leaves the email to the next sweep once its hold runs out
# (with the sweep every minute, sent again within about two minutes). A constant, like the backoff.
CERTIFICATE_EMAIL_LEASE_SECONDS = 60
# A certificate email the mail server keeps deferring (4xx, refused or dropped connections) is retried for
# five days after it was queued, then marked failed; accreditation staff are alerted once (email and a
# logged error) about each one still undelivered after four hours. These are sendmail's queuereturn and
# queuewarn defaults, the delays mail administrators expect; 5xx replies fail at once.
CERTIFICATE_EMAIL_ALERT_AFTER_HOURS = 4
CERTIFICATE_EMAIL_GIVE_UP_AFTER_HOURS = 120

# Celery: with CELERY_BROKER_URL (Redis) tasks go to workers; without it they run in-process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = env_bool("CELERY_TASK_ACKS_LATE", True)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_WORKER_PREFETCH_MULTIPLIER", 1, minimum=1)
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message whose worker died unacknowledged is redelivered after this many seconds (Redis transport).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1),
    # A web request that queues a task (after its own commit) must not hang on an unreachable broker.
    "socket_connect_timeout": env_int("CELERY_BROKER_CONNECT_TIMEOUT", 2, minimum=1),
}
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECT_TIMEOUT", 2, minimum=1)
# After a failed dispatch a process (each web or worker process on its own) queues nothing for this many
# seconds, so learners' requests do not each wait the connect timeout for a broker that is down; the
# periodic sweep queues what was skipped. 0 tries the broker every time.
TASK_DISPATCH_PAUSE_SECONDS = env_int("TASK_DISPATCH_PAUSE_SECONDS", 30, minimum=0)
CELERY_TIMEZONE = TIME_ZONE

# Production hardening; every value can be relaxed by its variable behind a TLS-terminating proxy.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
