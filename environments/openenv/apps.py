from django.apps import AppConfig


class OpenEnvConfig(AppConfig):
    name = "environments.openenv"
    label = "openenv"
    verbose_name = "Serving environments to trainers"

    def ready(self) -> None:
        from environments.openenv import logs

        logs.install()
