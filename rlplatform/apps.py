from django.apps import AppConfig


class RlplatformConfig(AppConfig):
    name = "rlplatform"
    verbose_name = "Platform"

    def ready(self) -> None:
        from rlplatform import (
            audit_receivers,  # noqa: F401  (connects the sign-in audit)
            checks,  # noqa: F401  (registers the deploy checks)
        )

        _admin_reads_json_as_the_pages_do()


def _admin_reads_json_as_the_pages_do() -> None:
    """Every JSON field the Django admin edits is read by the platform's JSON reader (a depth
    limit, no unstorable text), as the pages' fields are. The admin registered its models
    before this app is ready (it comes first in INSTALLED_APPS); inlines are made per request
    from the defaults."""
    from django.contrib import admin
    from django.contrib.admin import options
    from django.db import models

    from rlplatform.inputs import StorableJSONField

    storable = {"form_class": StorableJSONField}
    options.FORMFIELD_FOR_DBFIELD_DEFAULTS[models.JSONField] = storable
    for model_admin in admin.site._registry.values():
        model_admin.formfield_overrides[models.JSONField] = storable
