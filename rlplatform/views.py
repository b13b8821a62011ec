"""Pages of the platform core: sign-in, the home page per role, API keys, jobs, audit log,
and the health endpoints."""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from rlplatform import health, selectors, services
from rlplatform.decorators import admin_required
from rlplatform.inputs import DateTimeField
from rlplatform.models import ApiKey, ApiKeyScope, AuditEvent, Role, User
from rlplatform.pagination import Paginator
from rlplatform.requests import client_ip


class SignInForm(AuthenticationForm):
    """Django's sign-in form, counting each attempt before its password is checked and
    refusing attempts while the name or address is locked out."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if username is None or not self.cleaned_data.get("password"):
            return super().clean()  # a field is missing: no password is checked
        ip_address = client_ip(self.request) if self.request else None
        try:
            services.signin_attempt_start(username=username, ip_address=ip_address)
        except services.SignInLocked as locked:
            raise ValidationError(str(locked), code="locked") from None
        cleaned = super().clean()  # a failure raises, and stays counted
        services.signin_attempt_succeeded(username=username, ip_address=ip_address)
        return cleaned


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {"role": user.role}
    if user.is_admin:
        statistics = selectors.job_latest_result(kind="recompute_statistics")
        context.update(
            statistics=statistics,
            recent_jobs=selectors.job_list_for(user=user)[:5],
            recent_events=selectors.audit_event_list()[:8],
        )
    return render(request, "rlplatform/home.html", context)


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(
        choices=ApiKeyScope.choices, widget=forms.CheckboxSelectMultiple
    )
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        to_field_name="username",
        help_text="The person or agent account the key acts for; you, if left empty.",
    )
    expires_at = DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Optional. After this moment the key is refused.",
    )


@admin_required
def api_keys(request: HttpRequest) -> HttpResponse:
    created_key = None
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created, created_key = services.api_key_create(
                created_by=request.user, ip_address=client_ip(request), **form.cleaned_data
            )
        except services.ServiceError as error:
            form.add_error(error.field, error.message)
        else:
            messages.success(request, f"Key “{created.name}” created. Copy it now.")
            form = ApiKeyForm()
    keys = selectors.api_key_list()
    return render(
        request,
        "rlplatform/api_keys.html",
        {"form": form, "keys": keys, "created_key": created_key},
        status=400 if form.errors else 200,
    )


@admin_required
@require_POST
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=key_id)
    services.api_key_revoke(key=key, revoked_by=request.user, ip_address=client_ip(request))
    messages.success(request, f"Key “{key.name}” ({key.prefix}) revoked.")
    return redirect("keys")


@admin_required
def audit_log(request: HttpRequest) -> HttpResponse:
    action = request.GET.get("action") or None
    page = Paginator(selectors.audit_event_list(action=action), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "rlplatform/audit_log.html",
        {
            "page": page,
            "actions": AuditEvent.Action.choices,
            "action": action,
            "query": urlencode({"action": action}) if action else "",
        },
    )


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.job_list_for(user=request.user), 25).get_page(
        request.GET.get("page")
    )
    running = any(not job.is_finished for job in page.object_list)
    return render(request, "rlplatform/jobs.html", {"page": page, "running": running})


@login_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(selectors.job_list_for(user=request.user), pk=job_id)
    if request.htmx:
        return render(request, "rlplatform/_progress.html", {"job": job})
    return render(
        request,
        "rlplatform/job_detail.html",
        {"job": job, "description": selectors.job_description(job)},
    )


@admin_required
@require_POST
def statistics_recompute(request: HttpRequest) -> HttpResponse:
    job = services.job_create(kind="recompute_statistics", created_by=request.user)
    return redirect("job_detail", job_id=job.pk)


@admin_required
@require_POST
def user_role_change(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    try:
        services.user_set_role(
            user=user,
            role=request.POST.get("role", ""),
            changed_by=request.user,
            ip_address=client_ip(request),
        )
    except services.ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{user.username} is now {user.get_role_display().lower()}.")
    return redirect("users")


@admin_required
def users(request: HttpRequest) -> HttpResponse:
    return render(
        request, "rlplatform/users.html", {"users": selectors.user_list(), "roles": Role.choices}
    )


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    report = health.readiness()
    return JsonResponse(report, status=200 if report["ready"] else 503)
