"""The Django admin (admins only) for repairs. Counters the queue relies on are read-only:
change them through the services, which keep them in step."""

from django.contrib import admin

from labeling.models import (
    Adjudication,
    AgreementReport,
    Assignment,
    Campaign,
    ContractorProfile,
    ContractorStanding,
    Judgment,
    WorkItem,
)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "kind", "status", "owner", "overlap", "priority", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["name"]
    filter_horizontal = ["managers", "reviewers"]


@admin.register(WorkItem)
class WorkItemAdmin(admin.ModelAdmin):
    list_display = ["id", "campaign", "source_key", "status", "judgment_count", "remaining"]
    list_filter = ["status", "review_status", "is_gold"]
    readonly_fields = ["remaining", "judgment_count", "aggregate", "consensus"]
    raw_id_fields = ["task", "episode_a", "episode_b"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["id", "item", "contractor", "status", "leased_at", "expires_at"]
    list_filter = ["status", "skip_reason"]
    readonly_fields = [field.name for field in Assignment._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # every field is read-only: leases are made by the queue


@admin.register(Judgment)
class JudgmentAdmin(admin.ModelAdmin):
    list_display = ["id", "item", "contractor", "submitted_at", "time_spent_ms", "gold_score"]
    readonly_fields = [field.name for field in Judgment._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # every field is read-only: judgments are submitted through the services


@admin.register(ContractorStanding)
class ContractorStandingAdmin(admin.ModelAdmin):
    list_display = ["campaign", "contractor", "status", "gold_judged", "served"]
    list_filter = ["status"]


admin.site.register(ContractorProfile)
admin.site.register(Adjudication)
admin.site.register(AgreementReport)
