from django.contrib import admin

from evaluations.models import Evaluation


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ["id", "policy_label", "env_id", "split", "attempts", "created_by", "created_at"]
    list_filter = ["env_id", "split"]
    readonly_fields = [field.name for field in Evaluation._meta.fields]

    # Evaluations are started through the platform (the page, the API, manage.py evaluate).
    def has_add_permission(self, request) -> bool:
        return False
