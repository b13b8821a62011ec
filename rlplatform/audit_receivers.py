"""Sign-in events come from django.contrib.auth's signals, so every way in (our sign-in page,
the admin's, the API's session) is audited in one place."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from rlplatform.models import AuditEvent
from rlplatform.requests import client_ip
from rlplatform.services import audit_record


@receiver(user_logged_in)
def audit_sign_in(sender, request, user, **kwargs) -> None:
    audit_record(
        action=AuditEvent.Action.SIGN_IN,
        actor=user,
        target=f"user:{user.username}",
        ip_address=client_ip(request),
    )


@receiver(user_logged_out)
def audit_sign_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(
            action=AuditEvent.Action.SIGN_OUT,
            actor=user,
            target=f"user:{user.username}",
            ip_address=client_ip(request),
        )


@receiver(user_login_failed)
def audit_failed_sign_in(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit_record(
        action=AuditEvent.Action.SIGN_IN_FAILED,
        actor_label=username,
        target=f"user:{username}",
        ip_address=client_ip(request) if request is not None else None,
    )
