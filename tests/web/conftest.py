"""The browser tests use the Celery test broker of the worker tests (the lead import)."""

from tests.workers.conftest import broker_env, celery_broker_url, real_broker

__all__ = ["broker_env", "celery_broker_url", "real_broker"]
