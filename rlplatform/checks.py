"""The platform's own `check --deploy` warnings."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def chat_policy_hosts_are_listed(app_configs: object, **kwargs: object) -> list[Warning]:
    if "*" not in settings.CHAT_POLICY_ALLOWED_HOSTS:
        return []
    return [
        Warning(
            "CHAT_POLICY_ALLOWED_HOSTS allows any host: a manager or an agent key can make the "
            "rollout workers call any address, internal ones included.",
            hint="List the model servers rollouts may call, e.g. "
            "CHAT_POLICY_ALLOWED_HOSTS=models.internal,api.openai.com",
            id="rlplatform.W001",
        )
    ]
