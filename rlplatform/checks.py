"""The platform's own `check --deploy` warnings."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def chat_policy_hosts_are_listed(app_configs: object, **kwargs: object) -> list[Warning]:
    if "*" not in settings.CHAT_POLICY_ALLOWED_HOSTS:
        return []
    return [
        Warning(
            "CHAT_POLICY_ALLOWED_HOSTS allows any public host: a manager or an agent key can "
            "make the rollout workers call any server on the internet.",
            hint="List the model servers rollouts may call, e.g. "
            "CHAT_POLICY_ALLOWED_HOSTS=models.internal,api.openai.com",
            id="rlplatform.W001",
        )
    ]


@register(Tags.security, deploy=True)
def outbound_calls_stay_public(app_configs: object, **kwargs: object) -> list[Warning]:
    if not settings.OUTBOUND_ALLOW_PRIVATE:
        return []
    return [
        Warning(
            "OUTBOUND_ALLOW_PRIVATE is on: a manager or an agent key can make the workers call "
            "loopback, private and link-local addresses (the cloud metadata service included).",
            hint="Turn it off, and list the internal servers the platform may call in "
            "OUTBOUND_ALLOWED_PRIVATE_HOSTS.",
            id="rlplatform.W002",
        )
    ]
