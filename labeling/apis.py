"""The labeling API.

Managers (and programs with an `admin` key): campaigns, their items, judgments, agreement,
dashboards, contractor standings and profiles. Reviewers: the review queue and adjudication.
Contractors: their queue (next, submit, skip) and their own assignments and judgments.
What each principal reads is scoped in `labeling/selectors.py`.
"""

from contextlib import contextmanager

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from environments import observations
from environments.engine import page_to_json
from environments.engine.text import small_int
from labeling import queue, selectors, services
from labeling.models import (
    AgreementReport,
    Assignment,
    Campaign,
    CampaignKind,
    CampaignStatus,
    ContractorProfile,
    ContractorStanding,
    Judgment,
    LabelStatus,
    SkipReason,
    WorkItem,
    WorkItemStatus,
)
from labeling.schemas import LabelSchemaError
from labeling.trajectories import Trajectory, trajectory_of
from rlplatform.apis import JobOutput, paginated
from rlplatform.fields import DateTimeField, FloatField, IntegerField
from rlplatform.models import ApiKeyScope, Role, User
from rlplatform.permissions import allow
from rlplatform.services import ServiceError

Managers = allow(roles=(Role.MANAGER,), scopes=(ApiKeyScope.ADMIN,))
Reviewers = allow(roles=(Role.MANAGER, Role.REVIEWER), scopes=(ApiKeyScope.ADMIN,))
Contractors = allow(roles=(Role.CONTRACTOR,))
Everyone = allow(roles=(Role.MANAGER, Role.REVIEWER, Role.CONTRACTOR), scopes=(ApiKeyScope.ADMIN,))


class LeaseExpired(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "lease_expired"


@contextmanager
def schema_problems():
    """Report every question at fault, each under its own field; a lease that ran out on an
    item that no longer needs the answer is a 409 with its own code."""
    try:
        yield
    except LabelSchemaError as error:
        raise serializers.ValidationError(error.problems) from None
    except ServiceError as error:
        if error.code == "lease_expired":
            raise LeaseExpired(error.message) from None
        raise


def usernames(users) -> list[str]:
    return [user.username for user in users.all()]


# --- campaigns ------------------------------------------------------------------------------


class CampaignOutput(serializers.ModelSerializer):
    # Plain strings here: the input serializers carry these enums, once each.
    kind = serializers.CharField(help_text="demonstrate, grade or compare")
    status = serializers.CharField(help_text="draft, active, paused or done")
    owner = serializers.CharField(source="owner.username")
    managers = serializers.SerializerMethodField()
    reviewers = serializers.SerializerMethodField()
    schema = serializers.JSONField()
    sources = serializers.JSONField()
    eligible_groups = serializers.ListField(child=serializers.CharField())
    eligible_skills = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "kind",
            "status",
            "owner",
            "managers",
            "reviewers",
            "instructions",
            "schema",
            "sources",
            "overlap",
            "gold_rate",
            "gold_accuracy_threshold",
            "gold_min_judged",
            "qualification_size",
            "qualification_pass_rate",
            "review_threshold",
            "eligible_groups",
            "eligible_skills",
            "priority",
            "lease_seconds",
            "allow_takeover",
            "created_at",
            "updated_at",
        ]

    def get_managers(self, campaign: Campaign) -> list[str]:
        return usernames(campaign.managers)

    def get_reviewers(self, campaign: Campaign) -> list[str]:
        return usernames(campaign.reviewers)


class CampaignSettingsFields(serializers.Serializer):
    """Settings shared by creating and changing a campaign; the services check their values."""

    name = serializers.CharField(max_length=200)
    instructions = serializers.CharField(required=False, allow_blank=True, max_length=50_000)
    schema = serializers.JSONField(required=False, help_text="a list of questions")
    sources = serializers.JSONField(required=False)
    overlap = IntegerField(required=False)
    gold_rate = FloatField(required=False)
    gold_accuracy_threshold = FloatField(required=False, allow_null=True)
    gold_min_judged = IntegerField(required=False)
    qualification_size = IntegerField(required=False)
    qualification_pass_rate = FloatField(required=False)
    review_threshold = FloatField(
        required=False,
        help_text="0.5 to 1 (default 0.6): the confidence the judges' aggregate needs on every "
        "question to be the item's label; ties and questions below it send the item to review",
    )
    eligible_groups = serializers.ListField(child=serializers.CharField(), required=False)
    eligible_skills = serializers.ListField(child=serializers.CharField(), required=False)
    priority = IntegerField(required=False)
    lease_seconds = IntegerField(required=False)
    allow_takeover = serializers.BooleanField(
        required=False,
        help_text="grade campaigns: a contractor may take over the agent's episode from just "
        "before its first wrong step (POST /assignments/{id}/takeover/)",
    )
    managers = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), many=True, required=False
    )
    reviewers = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.all(),
        many=True,
        required=False,
        help_text="Usernames of its reviewers; left out when creating: every active reviewer.",
    )


class CampaignListApi(APIView):
    permission_classes = [Managers]

    class CampaignCreateInput(CampaignSettingsFields):
        kind = serializers.ChoiceField(choices=CampaignKind.choices)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=CampaignStatus.values),
            OpenApiParameter("kind", str, enum=CampaignKind.values),
        ],
        responses=CampaignOutput(many=True),
    )
    def get(self, request):
        campaigns = selectors.campaign_list_for(user=request.user).prefetch_related(
            "managers", "reviewers"
        )
        for name in ("status", "kind"):
            if value := request.query_params.get(name):
                campaigns = campaigns.filter(**{name: value})
        return paginated(self, request, campaigns, CampaignOutput)

    @extend_schema(request=CampaignCreateInput, responses={201: CampaignOutput})
    def post(self, request):
        data = self.CampaignCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        with schema_problems():
            campaign = services.campaign_create(created_by=request.user, **data.validated_data)
        return Response(CampaignOutput(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(APIView):
    permission_classes = [Managers]

    class CampaignUpdateInput(CampaignSettingsFields):
        name = serializers.CharField(max_length=200, required=False)

    @extend_schema(responses=CampaignOutput)
    def get(self, request, campaign_id: int):
        campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
        return Response(CampaignOutput(campaign).data)

    @extend_schema(request=CampaignUpdateInput, responses=CampaignOutput)
    def patch(self, request, campaign_id: int):
        campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
        data = self.CampaignUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        with schema_problems():
            campaign = services.campaign_update(
                campaign=campaign, updated_by=request.user, **data.validated_data
            )
        return Response(CampaignOutput(campaign).data)

    @extend_schema(responses={204: None})
    def delete(self, request, campaign_id: int):
        campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
        services.campaign_delete(campaign=campaign, deleted_by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CampaignStatusApi(APIView):
    permission_classes = [Managers]

    class CampaignStatusInput(serializers.Serializer):
        status = serializers.ChoiceField(choices=CampaignStatus.choices)

    @extend_schema(request=CampaignStatusInput, responses=CampaignOutput)
    def post(self, request, campaign_id: int):
        campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
        data = self.CampaignStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = services.campaign_set_status(
            campaign=campaign, status=data.validated_data["status"], changed_by=request.user
        )
        return Response(CampaignOutput(campaign).data)


# --- items ----------------------------------------------------------------------------------


class FinalLabelOutput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=LabelStatus.choices,
        help_text="adjudicated and decided labels are exported; unresolved (a tie or a split) "
        "and in_review ones are not, unless an export asks for them",
    )
    answers = serializers.JSONField()
    source = serializers.ChoiceField(choices=["adjudication", "aggregate"])
    confidence = FloatField(allow_null=True, help_text="1.0 when adjudicated")
    questions = serializers.DictField(
        child=serializers.ChoiceField(choices=["decided", "tie", "split"]),
        help_text="how each question of the aggregate stands",
    )


class WorkItemOutput(serializers.ModelSerializer):
    final_label = serializers.SerializerMethodField()
    gold_answer = serializers.SerializerMethodField(
        help_text="The known answer of a gold item; shown to admins only, null for others."
    )

    class Meta:
        model = WorkItem
        fields = [
            "id",
            "campaign",
            "source_key",
            "task",
            "episode_a",
            "episode_b",
            "priority",
            "status",
            "remaining",
            "judgment_count",
            "consensus",
            "aggregate",
            "review_status",
            "final_label",
            "is_gold",
            "is_qualification",
            "gold_answer",
            "created_at",
            "completed_at",
        ]

    @extend_schema_field(FinalLabelOutput(allow_null=True))
    def get_final_label(self, item: WorkItem) -> dict | None:
        return selectors.item_final_label(item=item)

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_gold_answer(self, item: WorkItem):
        request = self.context.get("request")
        return item.gold_answer if request is not None and request.user.is_admin else None


class ItemEntryInput(serializers.Serializer):
    task = IntegerField(required=False, help_text="demonstrate: a task id")
    episode = IntegerField(required=False, help_text="grade: a finished episode")
    episode_a = IntegerField(required=False, help_text="compare: shown as A")
    episode_b = IntegerField(required=False, help_text="compare: shown as B")
    priority = IntegerField(required=False, default=0)
    is_gold = serializers.BooleanField(required=False, default=False)
    is_qualification = serializers.BooleanField(required=False, default=False)
    gold_answer = serializers.JSONField(required=False, allow_null=True, write_only=True)


def serialized_items(view, request, items) -> Response:
    return paginated_with_context(view, request, items, WorkItemOutput)


def paginated_with_context(view, request, queryset, serializer_class) -> Response:
    from rest_framework.settings import api_settings

    paginator = api_settings.DEFAULT_PAGINATION_CLASS()
    page = paginator.paginate_queryset(queryset, request, view=view)
    body = serializer_class(page, many=True, context={"request": request}).data
    return paginator.get_paginated_response(body)


class CampaignItemListApi(APIView):
    permission_classes = [Managers]

    class ItemsAddInput(serializers.Serializer):
        items = ItemEntryInput(many=True, allow_empty=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=WorkItemStatus.values),
            OpenApiParameter("review_status", str, enum=["pending", "resolved"]),
        ],
        responses=WorkItemOutput(many=True),
    )
    def get(self, request, campaign_id: int):
        campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
        items = selectors.item_list(
            campaign=campaign,
            status=request.query_params.get("status"),
            review=request.query_params.get("review_status"),
        )
        return serialized_items(self, request, items)

    @extend_schema(request=ItemsAddInput, responses={201: WorkItemOutput(many=True)})
    def post(self, request, campaign_id: int):
        campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
        data = self.ItemsAddInput(data=request.data)
        data.is_valid(raise_exception=True)
        with schema_problems():
            items = services.items_add(
                campaign=campaign, added_by=request.user, entries=data.validated_data["items"]
            )
        body = WorkItemOutput(items, many=True, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class CampaignItemsGenerateApi(APIView):
    permission_classes = [Managers]

    @extend_schema(request=None, responses={202: JobOutput})
    def post(self, request, campaign_id: int):
        campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
        job = services.items_generate_start(campaign=campaign, requested_by=request.user)
        return Response(JobOutput(job).data, status=status.HTTP_202_ACCEPTED)


class WorkItemDetailApi(APIView):
    permission_classes = [Managers]

    class WorkItemUpdateInput(serializers.Serializer):
        priority = IntegerField(required=False)
        is_gold = serializers.BooleanField(required=False)
        is_qualification = serializers.BooleanField(required=False)
        gold_answer = serializers.JSONField(required=False, allow_null=True, write_only=True)

    @extend_schema(responses=WorkItemOutput)
    def get(self, request, item_id: int):
        item = selectors.item_managed_by(user=request.user, item_id=item_id)
        return Response(WorkItemOutput(item, context={"request": request}).data)

    @extend_schema(request=WorkItemUpdateInput, responses=WorkItemOutput)
    def patch(self, request, item_id: int):
        item = selectors.item_managed_by(user=request.user, item_id=item_id)
        data = self.WorkItemUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        with schema_problems():
            item = services.item_update(item=item, changed_by=request.user, **data.validated_data)
        return Response(WorkItemOutput(item, context={"request": request}).data)


# --- judgments ------------------------------------------------------------------------------


class JudgmentOutput(serializers.ModelSerializer):
    contractor = serializers.SerializerMethodField(
        help_text="Who judged; null for reviewers, who judge the answers, not the people."
    )
    gold_score = serializers.SerializerMethodField(
        help_text="Gold items: how well the answers matched (0..1); admins only."
    )

    class Meta:
        model = Judgment
        fields = [
            "id",
            "assignment",
            "item",
            "campaign",
            "contractor",
            "answers",
            "episode",
            "time_spent_ms",
            "submitted_at",
            "late",
            "gold_score",
        ]

    def _viewer(self) -> User | None:
        request = self.context.get("request")
        return request.user if request is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_contractor(self, judgment: Judgment) -> str | None:
        viewer = self._viewer()
        if viewer is None or viewer.is_reviewer:
            return None
        return judgment.contractor.username

    @extend_schema_field(FloatField(allow_null=True))
    def get_gold_score(self, judgment: Judgment) -> float | None:
        viewer = self._viewer()
        return judgment.gold_score if viewer is not None and viewer.is_admin else None


class JudgmentListApi(APIView):
    """Judgments the caller may read: a contractor's own; a reviewer's items in review; a
    manager's campaigns; all for admins."""

    permission_classes = [Everyone]

    @extend_schema(
        parameters=[OpenApiParameter("campaign", int), OpenApiParameter("item", int)],
        responses=JudgmentOutput(many=True),
    )
    def get(self, request):
        judgments = selectors.judgment_list_for(user=request.user)
        for name in ("campaign", "item"):
            value = request.query_params.get(name)
            if value and (number := small_int(value)) is not None:
                judgments = judgments.filter(**{f"{name}_id": number})
        return paginated_with_context(self, request, judgments, JudgmentOutput)


# --- agreement and the dashboard ------------------------------------------------------------


class QuestionAgreementOutput(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    level = serializers.ChoiceField(choices=["nominal", "ordinal"])
    alpha = FloatField(allow_null=True)
    items = IntegerField(help_text="items with two or more answers to the question")
    units = IntegerField()
    values = IntegerField()


class AgreementReportOutput(serializers.ModelSerializer):
    questions = QuestionAgreementOutput(many=True)

    class Meta:
        model = AgreementReport
        fields = [
            "id",
            "campaign",
            "job",
            "computed_at",
            "alpha",
            "items",
            "judgments",
            "questions",
        ]


class CampaignAgreementApi(APIView):
    permission_classes = [Managers]

    @extend_schema(responses={200: AgreementReportOutput, 404: None})
    def get(self, request, campaign_id: int):
        campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
        report = selectors.agreement_latest(campaign=campaign)
        if report is None:
            from django.http import Http404

            raise Http404("agreement has not been computed yet; POST here to compute it")
        return Response(AgreementReportOutput(report).data)

    @extend_schema(request=None, responses={202: JobOutput})
    def post(self, request, campaign_id: int):
        campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
        job = services.agreement_start(campaign=campaign, requested_by=request.user)
        return Response(JobOutput(job).data, status=status.HTTP_202_ACCEPTED)


class ContractorRowOutput(serializers.Serializer):
    contractor = serializers.CharField(source="contractor.username")
    items = IntegerField()
    median_seconds = FloatField(allow_null=True)
    gold_accuracy = FloatField(allow_null=True)
    agreement = FloatField(
        allow_null=True, help_text="share agreeing with the consensus of the other judges"
    )
    agreement_items = IntegerField()
    skipped = IntegerField()
    status = serializers.CharField(source="standing.status", default=None)
    paused_reason = serializers.CharField(source="standing.paused_reason", default="")


class CampaignDashboardApi(APIView):
    permission_classes = [Managers]

    class ThroughputOutput(serializers.Serializer):
        hour = DateTimeField()
        judgments = IntegerField()

    class DashboardOutput(serializers.Serializer):
        campaign = CampaignOutput()
        progress = serializers.DictField()
        timing = serializers.DictField()
        throughput = serializers.ListField(child=serializers.DictField())
        agreement = AgreementReportOutput(allow_null=True)
        contractors = ContractorRowOutput(many=True)

    @extend_schema(
        parameters=[OpenApiParameter("hours", int, description="throughput window, 1-168")],
        responses=DashboardOutput,
    )
    def get(self, request, campaign_id: int):
        campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
        hours = request.query_params.get("hours", "24")
        hours = min(max(small_int(hours) or 24, 1), 168)
        report = selectors.agreement_latest(campaign=campaign)
        throughput = selectors.campaign_throughput(campaign=campaign, hours=hours)
        return Response(
            {
                "campaign": CampaignOutput(campaign).data,
                "progress": selectors.campaign_progress(campaign=campaign),
                "timing": selectors.campaign_timing(campaign=campaign),
                "throughput": [
                    {"hour": hour.isoformat(), "judgments": count} for hour, count in throughput
                ],
                "agreement": AgreementReportOutput(report).data if report else None,
                "contractors": ContractorRowOutput(
                    selectors.campaign_contractors(campaign=campaign, report=report), many=True
                ).data,
            }
        )


class StandingOutput(serializers.ModelSerializer):
    contractor = serializers.CharField(source="contractor.username")
    gold_accuracy = FloatField(allow_null=True)
    qualification_accuracy = FloatField(allow_null=True)

    class Meta:
        model = ContractorStanding
        fields = [
            "contractor",
            "status",
            "paused_reason",
            "paused_at",
            "served",
            "gold_judged",
            "gold_accuracy",
            "qualification_judged",
            "qualification_accuracy",
            "qualified_at",
        ]


class CampaignStandingListApi(APIView):
    permission_classes = [Managers]

    @extend_schema(responses=StandingOutput(many=True))
    def get(self, request, campaign_id: int):
        campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
        standings = campaign.standings.select_related("contractor").order_by("contractor")
        return paginated(self, request, standings, StandingOutput)


class StandingResumeApi(APIView):
    permission_classes = [Managers]

    @extend_schema(request=None, responses=StandingOutput)
    def post(self, request, campaign_id: int, username: str):
        campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
        standing = get_object_or_404(
            ContractorStanding, campaign=campaign, contractor__username=username
        )
        standing = services.standing_resume(standing=standing, resumed_by=request.user)
        return Response(StandingOutput(standing).data)


class ContractorProfileApi(APIView):
    permission_classes = [Managers]

    class ContractorProfileOutput(serializers.ModelSerializer):
        contractor = serializers.CharField(source="user.username")
        groups = serializers.ListField(child=serializers.CharField())
        skills = serializers.ListField(child=serializers.CharField())

        class Meta:
            model = ContractorProfile
            fields = ["contractor", "groups", "skills", "updated_at"]

    class ContractorProfileInput(serializers.Serializer):
        groups = serializers.ListField(child=serializers.CharField(max_length=50), default=list)
        skills = serializers.ListField(child=serializers.CharField(max_length=50), default=list)

    def _contractor(self, username: str) -> User:
        return get_object_or_404(User, username=username, role=Role.CONTRACTOR)

    @extend_schema(responses=ContractorProfileOutput)
    def get(self, request, username: str):
        profile, _ = ContractorProfile.objects.get_or_create(user=self._contractor(username))
        return Response(self.ContractorProfileOutput(profile).data)

    @extend_schema(request=ContractorProfileInput, responses=ContractorProfileOutput)
    def put(self, request, username: str):
        data = self.ContractorProfileInput(data=request.data)
        data.is_valid(raise_exception=True)
        profile = services.contractor_profile_set(
            user=self._contractor(username), changed_by=request.user, **data.validated_data
        )
        return Response(self.ContractorProfileOutput(profile).data)


# --- review ---------------------------------------------------------------------------------


class AdjudicationOutput(serializers.Serializer):
    reviewer = serializers.CharField(source="reviewer.username")
    answers = serializers.JSONField()
    note = serializers.CharField()
    updated_at = DateTimeField()


class ReviewItemOutput(serializers.Serializer):
    id = IntegerField()
    campaign = IntegerField(source="campaign_id")
    campaign_name = serializers.CharField(source="campaign.name")
    task = IntegerField(source="task_id")
    goal = serializers.CharField(source="task.goal")
    episode_a = IntegerField(source="episode_a_id", allow_null=True)
    episode_b = IntegerField(source="episode_b_id", allow_null=True)
    judgment_count = IntegerField()
    consensus = FloatField(allow_null=True)
    aggregate = serializers.JSONField()
    review_status = serializers.CharField()
    completed_at = DateTimeField()


class ReviewQueueApi(APIView):
    permission_classes = [Reviewers]

    @extend_schema(
        parameters=[OpenApiParameter("campaign", int)], responses=ReviewItemOutput(many=True)
    )
    def get(self, request):
        campaign = None
        if (number := small_int(request.query_params.get("campaign") or "")) is not None:
            campaign = get_object_or_404(Campaign, pk=number)
        items = selectors.review_queue_for(user=request.user, campaign=campaign)
        return paginated(self, request, items, ReviewItemOutput)


class ReviewItemApi(APIView):
    permission_classes = [Reviewers]

    class ReviewItemDetailOutput(ReviewItemOutput):
        schema = serializers.JSONField(source="campaign.schema")
        judgments = serializers.SerializerMethodField()
        adjudication = serializers.SerializerMethodField()

        @extend_schema_field(JudgmentOutput(many=True))
        def get_judgments(self, item: WorkItem) -> list:
            judgments = item.judgments.select_related("contractor").order_by("id")
            return JudgmentOutput(judgments, many=True, context=self.context).data

        @extend_schema_field(AdjudicationOutput(allow_null=True))
        def get_adjudication(self, item: WorkItem) -> dict | None:
            adjudication = getattr(item, "adjudication", None)
            return AdjudicationOutput(adjudication).data if adjudication else None

    class AdjudicationInput(serializers.Serializer):
        answers = serializers.JSONField()
        note = serializers.CharField(required=False, allow_blank=True, max_length=5000)

    @extend_schema(responses=ReviewItemDetailOutput)
    def get(self, request, item_id: int):
        item = selectors.review_item_for(user=request.user, item_id=item_id)
        return Response(self.ReviewItemDetailOutput(item, context={"request": request}).data)

    @extend_schema(request=AdjudicationInput, responses=ReviewItemDetailOutput)
    def post(self, request, item_id: int):
        item = selectors.review_item_for(user=request.user, item_id=item_id)
        data = self.AdjudicationInput(data=request.data)
        data.is_valid(raise_exception=True)
        with schema_problems():
            services.item_adjudicate(
                item=item,
                reviewer=request.user,
                answers=data.validated_data["answers"],
                note=data.validated_data.get("note", ""),
            )
        item = selectors.review_item_for(user=request.user, item_id=item_id)
        return Response(self.ReviewItemDetailOutput(item, context={"request": request}).data)


# --- the contractor's queue -----------------------------------------------------------------


class ChangeOutput(serializers.Serializer):
    sign = serializers.ChoiceField(choices=["+", "-"])
    text = serializers.CharField()


class ReplayStepOutput(serializers.Serializer):
    index = IntegerField()
    action = serializers.CharField()
    observation = serializers.JSONField(help_text="the page the actor saw, in the chosen mode")
    changes = ChangeOutput(many=True, help_text="what the action changed on the page")


class TrajectoryOutput(serializers.Serializer):
    length = IntegerField()
    steps = ReplayStepOutput(many=True)
    final_observation = serializers.JSONField()
    answer = serializers.CharField(allow_null=True)


def trajectory_body(trajectory: Trajectory, mode: str) -> dict:
    def render(page):
        return page_to_json(page) if mode == "json" else observations.render_page(page, mode)

    return {
        "length": trajectory.length,
        "steps": [
            {
                "index": step.index,
                "action": step.action,
                "observation": render(step.page),
                "changes": [{"sign": c.sign, "text": c.text} for c in step.changes],
            }
            for step in trajectory.steps
        ],
        "final_observation": render(trajectory.final_page),
        "answer": trajectory.answer,
    }


class AssignmentCampaignOutput(serializers.ModelSerializer):
    kind = serializers.CharField(help_text="demonstrate, grade or compare")
    schema = serializers.JSONField()

    class Meta:
        model = Campaign
        fields = ["id", "name", "kind", "instructions", "schema"]


class AssignmentOutput(serializers.ModelSerializer):
    campaign = AssignmentCampaignOutput()
    status = serializers.CharField(help_text="active, submitted, skipped or expired")
    skip_reason = serializers.CharField(help_text="why it was skipped, if it was")
    goal = serializers.CharField(source="item.task.goal")
    environment = serializers.CharField(source="item.task.env_id")

    class Meta:
        model = Assignment
        fields = [
            "id",
            "campaign",
            "status",
            "goal",
            "environment",
            "leased_at",
            "expires_at",
            "finished_at",
            "skip_reason",
            "episode",
        ]


class AssignmentDetailOutput(AssignmentOutput):
    trajectory = TrajectoryOutput(allow_null=True, required=False, help_text="grade items")
    trajectory_a = TrajectoryOutput(allow_null=True, required=False, help_text="compare: A")
    trajectory_b = TrajectoryOutput(allow_null=True, required=False, help_text="compare: B")

    class Meta(AssignmentOutput.Meta):
        fields = [*AssignmentOutput.Meta.fields, "trajectory", "trajectory_a", "trajectory_b"]


def assignment_body(assignment: Assignment, mode: str) -> dict:
    """An assignment with what the contractor needs to judge it: the trajectory (grade), the
    two trajectories (compare), or the episode to play (demonstrate)."""
    if assignment.campaign.kind == CampaignKind.DEMONSTRATE:
        services.assignment_start_episode(assignment=assignment)
        assignment.refresh_from_db(fields=["episode"])
    body = AssignmentOutput(assignment).data
    item = assignment.item
    body["trajectory"] = body["trajectory_a"] = body["trajectory_b"] = None
    if assignment.campaign.kind == CampaignKind.GRADE:
        body["trajectory"] = trajectory_body(trajectory_of(item.episode_a), mode)
    elif assignment.campaign.kind == CampaignKind.COMPARE:
        body["trajectory_a"] = trajectory_body(trajectory_of(item.episode_a), mode)
        body["trajectory_b"] = trajectory_body(trajectory_of(item.episode_b), mode)
    return body


OBSERVATIONS = OpenApiParameter(
    "observations", str, enum=observations.MODES, description="observation rendering (json)"
)


def observation_mode(request) -> str:
    return observations.parse_mode(request.query_params.get("observations") or "json")


class QueueApi(APIView):
    """The campaigns open to the contractor, with the items waiting for them."""

    permission_classes = [Contractors]

    class QueueEntryOutput(serializers.Serializer):
        campaign = AssignmentCampaignOutput()
        waiting = IntegerField()
        waiting_capped = serializers.BooleanField(help_text="more items wait than counted")
        paused = serializers.BooleanField()
        paused_reason = serializers.CharField(source="standing.paused_reason", default="")
        today = IntegerField()
        median_seconds = FloatField(allow_null=True)
        gold_accuracy = FloatField(allow_null=True)

    @extend_schema(responses=QueueEntryOutput(many=True))
    def get(self, request):
        entries = selectors.queue_for(contractor=request.user)
        return paginated(self, request, entries, self.QueueEntryOutput)


class QueueNextApi(APIView):
    """Lease the next item: in `campaign`, or in the highest-priority campaign open to you.
    Asking again before submitting returns the same assignment. 204 when nothing is left."""

    permission_classes = [Contractors]

    class QueueNextInput(serializers.Serializer):
        campaign = IntegerField(required=False, allow_null=True)

    @extend_schema(
        request=QueueNextInput,
        parameters=[OBSERVATIONS],
        responses={200: AssignmentDetailOutput, 204: None},
    )
    def post(self, request):
        data = self.QueueNextInput(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = None
        if data.validated_data.get("campaign") is not None:
            campaign = get_object_or_404(Campaign, pk=data.validated_data["campaign"])
        mode = observation_mode(request)
        assignment = queue.next_item_for(contractor=request.user, campaign=campaign)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(assignment_body(assignment, mode))


class AssignmentListApi(APIView):
    permission_classes = [Contractors]

    @extend_schema(
        parameters=[OpenApiParameter("status", str), OpenApiParameter("campaign", int)],
        responses=AssignmentOutput(many=True),
    )
    def get(self, request):
        assignments = selectors.assignment_list_for(contractor=request.user).select_related(
            "item__task"
        )
        if value := request.query_params.get("status"):
            assignments = assignments.filter(status=value)
        if (number := small_int(request.query_params.get("campaign") or "")) is not None:
            assignments = assignments.filter(campaign_id=number)
        return paginated(self, request, assignments, AssignmentOutput)


class AssignmentDetailApi(APIView):
    permission_classes = [Contractors]

    @extend_schema(parameters=[OBSERVATIONS], responses=AssignmentDetailOutput)
    def get(self, request, assignment_id: int):
        assignment = selectors.assignment_of(contractor=request.user, assignment_id=assignment_id)
        return Response(assignment_body(assignment, observation_mode(request)))


class AssignmentSubmitApi(APIView):
    """Record your answers. Send an idempotency key (field or `Idempotency-Key` header): a
    retry with the same key returns the recorded judgment (200) instead of a second one."""

    permission_classes = [Contractors]

    class JudgmentSubmitInput(serializers.Serializer):
        answers = serializers.JSONField()
        idempotency_key = serializers.CharField(required=False, max_length=100)
        time_spent_ms = IntegerField(required=False, min_value=0)

    class SubmitResultOutput(serializers.Serializer):
        judgment = JudgmentOutput()
        replayed = serializers.BooleanField()

    @extend_schema(
        request=JudgmentSubmitInput,
        parameters=[OpenApiParameter("Idempotency-Key", str, location="header")],
        responses={201: SubmitResultOutput, 200: SubmitResultOutput},
    )
    def post(self, request, assignment_id: int):
        assignment = selectors.assignment_of(contractor=request.user, assignment_id=assignment_id)
        data = self.JudgmentSubmitInput(data=request.data)
        data.is_valid(raise_exception=True)
        key = data.validated_data.get("idempotency_key") or request.headers.get("Idempotency-Key")
        if not key:
            raise serializers.ValidationError(
                {"idempotency_key": "send an idempotency key (or the Idempotency-Key header)"}
            )
        with schema_problems():
            result = services.judgment_submit(
                assignment=assignment,
                contractor=request.user,
                answers=data.validated_data["answers"],
                idempotency_key=key,
                time_spent_ms=data.validated_data.get("time_spent_ms"),
            )
        body = {
            "judgment": JudgmentOutput(result.judgment, context={"request": request}).data,
            "replayed": result.replayed,
        }
        return Response(body, status=status.HTTP_200_OK if result.replayed else 201)


class AssignmentSkipApi(APIView):
    permission_classes = [Contractors]

    class AssignmentSkipInput(serializers.Serializer):
        reason = serializers.ChoiceField(choices=SkipReason.choices)
        note = serializers.CharField(required=False, allow_blank=True, max_length=500)

    @extend_schema(request=AssignmentSkipInput, responses=AssignmentOutput)
    def post(self, request, assignment_id: int):
        assignment = selectors.assignment_of(contractor=request.user, assignment_id=assignment_id)
        data = self.AssignmentSkipInput(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = services.assignment_skip(
            assignment=assignment,
            contractor=request.user,
            reason=data.validated_data["reason"],
            note=data.validated_data.get("note", ""),
        )
        return Response(AssignmentOutput(assignment).data)


class AssignmentTakeoverApi(APIView):
    """Take over the graded agent's episode at its first wrong step (grade campaigns that allow
    it): a new episode of yours with the agent's earlier steps replayed, to finish by hand in
    the play view (`play_url`). Asking again for the same step returns the same takeover."""

    permission_classes = [Contractors]

    class TakeoverInput(serializers.Serializer):
        step = IntegerField(min_value=0)
        category = serializers.CharField(required=False, allow_blank=True, max_length=80)

    class TakeoverOutput(serializers.Serializer):
        id = IntegerField()
        agent_episode = IntegerField(source="agent_episode_id")
        replaced_step = IntegerField()
        category = serializers.CharField()
        episode = IntegerField(source="episode_id")
        play_url = serializers.SerializerMethodField()

        def get_play_url(self, takeover) -> str:
            return reverse("play", args=[takeover.episode_id])

    @extend_schema(request=TakeoverInput, responses={201: TakeoverOutput})
    def post(self, request, assignment_id: int):
        assignment = selectors.assignment_of(contractor=request.user, assignment_id=assignment_id)
        data = self.TakeoverInput(data=request.data)
        data.is_valid(raise_exception=True)
        takeover = services.takeover_start(
            assignment=assignment,
            contractor=request.user,
            step=data.validated_data["step"],
            category=data.validated_data.get("category", ""),
        )
        return Response(self.TakeoverOutput(takeover).data, status=201)


class AssignmentUndoApi(APIView):
    """Withdraw your last submission in a campaign while its lease lasts: the judgment is
    deleted, the assignment is yours to answer again, and the item you were given next goes
    back to the queue. `answers` are the withdrawn answers (null when it was undone already)."""

    permission_classes = [Contractors]

    class UndoOutput(serializers.Serializer):
        assignment = AssignmentOutput()
        answers = serializers.JSONField(allow_null=True)

    @extend_schema(request=None, responses=UndoOutput)
    def post(self, request, assignment_id: int):
        assignment = selectors.assignment_of(contractor=request.user, assignment_id=assignment_id)
        result = services.judgment_undo(assignment=assignment, contractor=request.user)
        body = {"assignment": AssignmentOutput(result.assignment).data, "answers": result.answers}
        return Response(body)
