from django.contrib import admin

from environments.models import Episode, Step, Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["id", "env_id", "family", "seed", "max_steps", "created_at"]
    list_filter = ["env_id", "family"]
    readonly_fields = [field.name for field in Task._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


class StepInline(admin.TabularInline):
    model = Step
    fields = ["index", "action", "reward", "terminated", "truncated", "error", "think_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Episode)
class EpisodeAdmin(admin.ModelAdmin):
    list_display = ["id", "task", "actor_kind", "user", "status", "step_count", "reward"]
    list_filter = ["env_id", "status", "actor_kind", "source"]
    search_fields = ["user__username", "task__family"]
    exclude = ["state"]
    readonly_fields = [f.name for f in Episode._meta.fields if f.name != "state"]
    inlines = [StepInline]

    def has_add_permission(self, request) -> bool:
        return False
