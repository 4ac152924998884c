"""Settings for the test suite: the real settings with fixed throw-away keys and an in-memory SQLite default.

``DATABASE_URL`` still selects the database, so the same suite runs on PostgreSQL in CI.
"""

import os

os.environ.setdefault("LINGKARAN_ENV", "development")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-real-deployment-0123456789")
os.environ.setdefault(
    "LINGKARAN_DATA_KEYS",
    "t2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,t1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
)
os.environ.setdefault("LINGKARAN_BLIND_INDEX_KEY", "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=")
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
os.environ.pop("CELERY_BROKER_URL", None)

from lingkaran.config.settings import *  # noqa: F403

TESTING = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING["loggers"]["lingkaran"]["level"] = "WARNING"  # noqa: F405
