from django.apps import AppConfig


class RlplatformConfig(AppConfig):
    name = "rlplatform"
    verbose_name = "Platform"

    def ready(self) -> None:
        from rlplatform import (
            audit_receivers,  # noqa: F401  (connects the sign-in audit)
            checks,  # noqa: F401  (registers the deploy checks)
        )
