from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is set by clients too, and the proxy in deploy/ rewrites
    # REMOTE_ADDR through gunicorn's forwarded_allow_ips.
    return request.META.get("REMOTE_ADDR") or None
