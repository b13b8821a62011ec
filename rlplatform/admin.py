from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from rlplatform import services
from rlplatform.models import ApiKey, ApiKeyScope, AuditEvent, Job, User
from rlplatform.requests import client_ip


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["username", "display_name", "email", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "display_name", "email"]
    fields = ["username", "display_name", "email", "role", "is_active", "last_login", "date_joined"]
    readonly_fields = ["last_login", "date_joined"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # People are created with a password through the users page, the API or createsuperuser.
        return False

    def save_model(self, request, obj: User, form, change: bool) -> None:
        role = obj.role
        if change and "role" in form.changed_data:
            obj.role = form.initial["role"]
            obj.save()
            try:
                services.user_set_role(
                    user=obj, role=role, changed_by=request.user, ip_address=client_ip(request)
                )
            except services.ServiceError as error:
                messages.error(request, error.message)
            return
        obj.save()


class ApiKeyCreationForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiKeyScope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "owner", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "scopes", "owner", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "owner__username"]
    actions = ["revoke"]
    readonly_fields = [
        "name",
        "prefix",
        "scopes",
        "owner",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreationForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ApiKeyCreationForm.Meta.fields

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Keys are revoked, never deleted, so the audit trail keeps pointing at something.
        return False

    def save_model(self, request, obj: ApiKey, form, change: bool) -> None:
        if change:
            return
        key, plaintext = services.api_key_create(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            owner=form.cleaned_data["owner"],
            expires_at=form.cleaned_data["expires_at"],
            created_by=request.user,
            ip_address=client_ip(request),
        )
        obj.__dict__.update(key.__dict__)
        messages.warning(request, f"Copy this key now; it is not shown again: {plaintext}")

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset) -> None:
        for key in queryset:
            services.api_key_revoke(key=key, revoked_by=request.user, ip_address=client_ip(request))
        messages.success(request, f"Revoked {queryset.count()} key(s).")


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "status",
        "progress_done",
        "progress_total",
        "created_by",
        "created_at",
    ]
    list_filter = ["kind", "status"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "actor_label", "target", "ip_address"]
    list_filter = ["action"]
    search_fields = ["actor_label", "target"]
