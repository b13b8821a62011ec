"""The platform core's API: who am I, jobs, API keys, users and roles, the audit log."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from rlplatform import selectors, services
from rlplatform.authentication import request_key
from rlplatform.fields import DateTimeField, IntegerField
from rlplatform.models import ApiKey, ApiKeyScope, AuditEvent, Job, Role, User
from rlplatform.permissions import allow
from rlplatform.requests import client_ip

AdminOnly = allow(scopes=(ApiKeyScope.ADMIN,))


def paginated(view: APIView, request, queryset, serializer_class) -> Response:
    paginator = api_settings.DEFAULT_PAGINATION_CLASS()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class UserOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "display_name", "email", "role", "is_active", "date_joined"]


class JobOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)
    percent = IntegerField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "params",
            "progress_done",
            "progress_total",
            "percent",
            "message",
            "error",
            "result",
            "attempts",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]


class MeApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "user": UserOutput(),
                "api_key": serializers.DictField(allow_null=True),
            },
        )
    )
    def get(self, request):
        key = request_key(request)
        return Response(
            {
                "user": UserOutput(request.user).data,
                "api_key": {"name": key.name, "prefix": key.prefix, "scopes": key.scopes}
                if key
                else None,
            }
        )


class JobListApi(APIView):
    @extend_schema(responses=JobOutput(many=True))
    def get(self, request):
        jobs = selectors.job_list_for(user=request.user, api_key=request_key(request))
        if kind := request.query_params.get("kind"):
            jobs = jobs.filter(kind=kind)
        if job_status := request.query_params.get("status"):
            jobs = jobs.filter(status=job_status)
        return paginated(self, request, jobs, JobOutput)


class JobDetailApi(APIView):
    @extend_schema(responses=JobOutput)
    def get(self, request, job_id: int):
        job = get_object_or_404(
            selectors.job_list_for(user=request.user, api_key=request_key(request)), pk=job_id
        )
        return Response(JobOutput(job).data)


class JobCancelApi(APIView):
    @extend_schema(request=None, responses=JobOutput)
    def post(self, request, job_id: int):
        job = get_object_or_404(
            selectors.job_list_for(user=request.user, api_key=request_key(request)), pk=job_id
        )
        return Response(JobOutput(services.job_cancel(job=job, cancelled_by=request.user)).data)


class StatisticsRecomputeApi(APIView):
    permission_classes = [AdminOnly]

    @extend_schema(request=None, responses={202: JobOutput})
    def post(self, request):
        job = services.job_create(kind="recompute_statistics", created_by=request.user)
        return Response(JobOutput(job).data, status=status.HTTP_202_ACCEPTED)


class ApiKeyOutput(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")
    created_by = serializers.CharField(source="created_by.username")
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "owner",
            "created_by",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "is_active",
        ]

    def get_is_active(self, key: ApiKey) -> bool:
        return not key.is_revoked and not key.is_expired


class ApiKeyListApi(APIView):
    permission_classes = [AdminOnly]

    class ApiKeyCreateInput(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        scopes = serializers.ListField(
            child=serializers.ChoiceField(choices=ApiKeyScope.choices), min_length=1
        )
        owner = serializers.SlugRelatedField(
            slug_field="username", queryset=User.objects.filter(is_active=True), required=False
        )
        expires_at = DateTimeField(required=False, allow_null=True)

    class ApiKeyCreatedOutput(ApiKeyOutput):
        key = serializers.CharField(help_text="The full key. It is shown this once only.")

        class Meta(ApiKeyOutput.Meta):
            fields = [*ApiKeyOutput.Meta.fields, "key"]

    @extend_schema(responses=ApiKeyOutput(many=True))
    def get(self, request):
        return paginated(self, request, selectors.api_key_list(), ApiKeyOutput)

    @extend_schema(request=ApiKeyCreateInput, responses={201: ApiKeyCreatedOutput})
    def post(self, request):
        data = self.ApiKeyCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        key, plaintext = services.api_key_create(
            created_by=request.user, ip_address=client_ip(request), **data.validated_data
        )
        key.key = plaintext
        return Response(self.ApiKeyCreatedOutput(key).data, status=status.HTTP_201_CREATED)


class ApiKeyRevokeApi(APIView):
    permission_classes = [AdminOnly]

    @extend_schema(request=None, responses=ApiKeyOutput)
    def post(self, request, key_id: int):
        key = get_object_or_404(ApiKey, pk=key_id)
        key = services.api_key_revoke(
            key=key, revoked_by=request.user, ip_address=client_ip(request)
        )
        return Response(ApiKeyOutput(key).data)


class UserListApi(APIView):
    permission_classes = [AdminOnly]

    class UserCreateInput(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(write_only=True)
        role = serializers.ChoiceField(choices=Role.choices)
        email = serializers.EmailField(required=False, default="")
        display_name = serializers.CharField(required=False, default="", max_length=150)

        def validate_password(self, value: str) -> str:
            from django.contrib.auth.password_validation import validate_password

            validate_password(value)
            return value

    @extend_schema(responses=UserOutput(many=True))
    def get(self, request):
        users = selectors.user_list()
        if role := request.query_params.get("role"):
            users = users.filter(role=role)
        return paginated(self, request, users, UserOutput)

    @extend_schema(request=UserCreateInput, responses={201: UserOutput})
    def post(self, request):
        data = self.UserCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_create(created_by=request.user, **data.validated_data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    permission_classes = [AdminOnly]

    class UserRoleInput(serializers.Serializer):
        role = serializers.ChoiceField(choices=Role.choices)

    @extend_schema(responses=UserOutput)
    def get(self, request, user_id: int):
        return Response(UserOutput(get_object_or_404(User, pk=user_id)).data)

    @extend_schema(request=UserRoleInput, responses=UserOutput)
    def patch(self, request, user_id: int):
        user = get_object_or_404(User, pk=user_id)
        data = self.UserRoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_set_role(
            user=user,
            role=data.validated_data["role"],
            changed_by=request.user,
            ip_address=client_ip(request),
        )
        return Response(UserOutput(user).data)


class AuditEventOutput(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "action", "actor_label", "target", "ip_address", "details", "created_at"]


class AuditEventListApi(APIView):
    permission_classes = [AdminOnly]

    @extend_schema(responses=AuditEventOutput(many=True))
    def get(self, request):
        events = selectors.audit_event_list(action=request.query_params.get("action"))
        return paginated(self, request, events, AuditEventOutput)
