"""Secrets never reach the logs: session URL tokens travel in URL paths, which servers log
(uvicorn's and gunicorn's access logs, Django's request warnings). This filter rewrites them.
"""

import logging
import re

_SECRETS = [
    # A session URL's path: /openenv/<env>/s/<token>/...
    (re.compile(r"(/openenv/[^/\s\"']+/s/)[^/\s\"'?#]+"), r"\1[redacted]"),
    # A session token or an API key anywhere else (a header echoed in an error, say).
    (re.compile(r"\brlps_[A-Za-z0-9_\-]+"), "rlps_[redacted]"),
    (re.compile(r"\brlp_[0-9a-f]{6,}_[A-Za-z0-9_\-]+"), "rlp_[redacted]"),
]
# Loggers that write request paths: uvicorn, gunicorn, daphne and Django's request loggers.
REQUEST_LOGGERS = (
    "uvicorn.access",
    "uvicorn.error",
    "gunicorn.access",
    "gunicorn.error",
    "daphne.server",
    "daphne.http_protocol",
    "daphne.ws_protocol",
    "django.request",
    "django.server",
    "django.channels.server",
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def install() -> None:
    """Add the filter to the request loggers and to every handler the root logger has now.
    A logger's filters see only records logged on it, hence both."""
    secret_filter = RedactSecrets()
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(secret_filter)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(secret_filter)
