"""The export API: snapshot exports and their files, webhooks, and incremental feeds. Programs
use a key of scope `export`; managers and admins their session."""

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from environments.engine.splits import SPLITS
from environments.models import ActorKind
from environments.observations import MODES
from exports import feeds, selectors, services
from exports.kinds import KIND_NAMES
from exports.models import Export, ExportFormat, Webhook
from exports.prompts import GRANULARITIES
from rlplatform.apis import JobOutput, paginated
from rlplatform.authentication import request_key
from rlplatform.fields import DateTimeField, FloatField, IntegerField
from rlplatform.models import ApiKeyScope, Role
from rlplatform.permissions import allow

Exporters = allow(roles=(Role.MANAGER,), scopes=(ApiKeyScope.EXPORT,))


class ExportFiltersInput(serializers.Serializer):
    environments = serializers.ListField(child=serializers.CharField(), required=False)
    families = serializers.ListField(child=serializers.CharField(), required=False)
    actor_kind = serializers.ChoiceField(choices=ActorKind.choices, required=False)
    success = serializers.BooleanField(required=False, allow_null=True, default=None)
    finished_after = DateTimeField(required=False)
    finished_before = DateTimeField(required=False)
    observation_mode = serializers.ChoiceField(choices=MODES, required=False)
    granularity = serializers.ChoiceField(
        choices=GRANULARITIES,
        required=False,
        help_text="sft, preference, stepwise, unpaired: a row per decision (step, the default) "
        "or per trajectory",
    )
    max_observation_chars = IntegerField(
        required=False, help_text="a page's budget in characters (step rows: 1,800 by default)"
    )
    history = serializers.CharField(
        required=False,
        max_length=20,
        help_text="step rows: 'actions' (default), 'none' or 'last_pages:K'",
    )
    tokenizer = serializers.CharField(
        required=False,
        max_length=200,
        help_text="a tokenizer folder under TOKENIZERS_DIR: the manifest gives row lengths in "
        "its tokens",
    )
    seed_from = IntegerField(required=False, min_value=0, help_text="tasks")
    seed_to = IntegerField(required=False, min_value=0, help_text="tasks")
    split = serializers.ChoiceField(
        choices=SPLITS,
        required=False,
        help_text="tasks: the split whose tasks (train by default); other kinds: only rows of "
        "tasks in this split (every row by default; rows carry their `split`, held-out "
        "families and UI variants in test only)",
    )
    campaigns = serializers.ListField(child=IntegerField(min_value=1), required=False)
    min_confidence = FloatField(
        required=False,
        min_value=0,
        max_value=1,
        help_text="label kinds: only items whose final label has at least this confidence "
        "(adjudicated: 1.0; a single judgment has none, so it is left out)",
    )
    include_unresolved = serializers.BooleanField(
        required=False,
        help_text="label kinds: also export items whose judges tie or split and items waiting "
        "for review, with the judges' aggregate (never a tied question); rows say which in "
        "label_status",
    )
    exclude_gold = serializers.BooleanField(required=False)
    exclude_paused = serializers.BooleanField(required=False)

    # Filters that are no more, and what replaced them.
    REPLACED = {
        "min_agreement": "min_agreement is replaced by min_confidence, which reads the final "
        "label (an adjudicated item counts 1.0) rather than the judges' raw agreement",
    }

    def validate_campaigns(self, value: list[int]) -> list[int]:
        from labeling.models import Campaign

        missing = sorted(
            set(value) - set(Campaign.objects.filter(pk__in=value).values_list("pk", flat=True))
        )
        if missing:
            raise serializers.ValidationError(f"no campaign {', '.join(str(pk) for pk in missing)}")
        return sorted(set(value))

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [
                            self.REPLACED.get(name)
                            or f"unknown filter; filters: {', '.join(self.fields)}"
                        ]
                        for name in unknown
                    }
                )
        values = super().to_internal_value(data)
        for name in ("finished_after", "finished_before"):
            if values.get(name):
                values[name] = values[name].isoformat()
        if values.get("success") is None:
            values.pop("success", None)
        return values


class ExportOutput(serializers.ModelSerializer):
    job = JobOutput()
    created_by = serializers.CharField(source="created_by.username")
    published = serializers.BooleanField(source="is_published")

    class Meta:
        model = Export
        fields = [
            "id",
            "kind",
            "format",
            "filters",
            "job",
            "published",
            "files",
            "manifest",
            "created_by",
            "created_at",
            "published_at",
        ]


class ExportListApi(APIView):
    permission_classes = [Exporters]

    class ExportStartInput(serializers.Serializer):
        kind = serializers.ChoiceField(choices=KIND_NAMES)
        format = serializers.ChoiceField(choices=ExportFormat.choices, default="jsonl")
        filters = ExportFiltersInput(required=False, default=dict)

    @extend_schema(responses=ExportOutput(many=True))
    def get(self, request):
        return paginated(
            self,
            request,
            selectors.export_list_for(user=request.user, api_key=request_key(request)),
            ExportOutput,
        )

    @extend_schema(request=ExportStartInput, responses={202: ExportOutput})
    def post(self, request):
        data = self.ExportStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        export = services.export_start(created_by=request.user, **data.validated_data)
        return Response(ExportOutput(export).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailApi(APIView):
    permission_classes = [Exporters]

    @extend_schema(responses=ExportOutput)
    def get(self, request, export_id: int):
        export = get_object_or_404(
            selectors.export_list_for(user=request.user, api_key=request_key(request)), pk=export_id
        )
        return Response(ExportOutput(export).data)


class ExportFileApi(APIView):
    """A file of a published export, streamed."""

    permission_classes = [Exporters]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, export_id: int, name: str):
        export = get_object_or_404(
            selectors.export_list_for(user=request.user, api_key=request_key(request)), pk=export_id
        )
        file = services.export_file_open(export=export, name=name)
        return FileResponse(file, as_attachment=True, filename=f"{export.kind}-{export.pk}-{name}")


class WebhookOutput(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        fields = ["id", "url", "active", "created_at"]


class WebhookListApi(APIView):
    permission_classes = [allow(scopes=(ApiKeyScope.ADMIN,))]

    class WebhookCreateInput(serializers.Serializer):
        url = serializers.URLField(max_length=500)

    class WebhookCreatedOutput(WebhookOutput):
        secret = serializers.CharField(help_text="Signs each delivery (HMAC-SHA256); shown once.")

        class Meta(WebhookOutput.Meta):
            fields = [*WebhookOutput.Meta.fields, "secret"]

    @extend_schema(responses=WebhookOutput(many=True))
    def get(self, request):
        return paginated(self, request, Webhook.objects.all(), WebhookOutput)

    @extend_schema(request=WebhookCreateInput, responses={201: WebhookCreatedOutput})
    def post(self, request):
        data = self.WebhookCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        webhook = services.webhook_create(url=data.validated_data["url"], created_by=request.user)
        return Response(self.WebhookCreatedOutput(webhook).data, status=status.HTTP_201_CREATED)


class FeedApi(APIView):
    """Finished episodes (`trajectories`) or judgments (`judgments`), in the order they were
    published. Ask again with `since` set to the `next_since` you were given: no row is missed
    or repeated, however many are being written. Rows have the columns of the export kind of
    the same name, plus `position`. Each reader gets what the pages show them (a manager the
    judgments of the campaigns they manage; a key what its owner reads)."""

    permission_classes = [Exporters]

    class FeedQueryInput(serializers.Serializer):
        since = IntegerField(min_value=0, default=0)
        limit = IntegerField(min_value=1, max_value=500, default=100)
        observation_mode = serializers.ChoiceField(choices=MODES, default="axtree")

    @extend_schema(
        parameters=[
            OpenApiParameter("since", int),
            OpenApiParameter("limit", int),
            OpenApiParameter("observation_mode", str, enum=MODES),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, feed: str):
        if feed not in feeds.FEEDS:
            raise NotFound(f"no feed '{feed}'; feeds: {', '.join(feeds.FEEDS)}")
        query = self.FeedQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        return Response(
            feeds.feed_page(
                feed=feed,
                since=values["since"],
                limit=values["limit"],
                filters={"observation_mode": values["observation_mode"]},
                scope=selectors.read_scope_for(user=request.user),
            )
        )
