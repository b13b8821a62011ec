"""Pages of the labeling app: the contractor's queue and workbench (one decision on screen, every
action on a key, items swapped in without a page load), the reviewer's queue and adjudication
page, and the manager's campaigns, forms and dashboard. Views are thin: they call the queue,
the services and the selectors, and render partials."""

import json
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import push_url

from environments.engine.text import BadJSON, format_path, json_parse, small_int
from environments.selectors import environment_list
from environments.views import play_context
from exports import services as export_services
from exports.kinds import KINDS
from exports.models import ExportFormat
from labeling import charts, quality, queue, schemas, selectors, services
from labeling.examples import EXAMPLE_SCHEMAS, EXAMPLE_SOURCES
from labeling.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    ContractorStanding,
    ItemState,
    LabelStatus,
    SkipReason,
    StandingStatus,
)
from labeling.questions import DEFAULT_ERROR_CATEGORIES, STRENGTHS, TYPE_TITLES
from labeling.sources import ACTOR_KINDS, EPISODE_SOURCES, ROLLOUT_MODES
from labeling.trajectories import trajectory_of
from rlplatform import selectors as platform_selectors
from rlplatform.decorators import role_required
from rlplatform.errors import error_body
from rlplatform.inputs import FloatField, IntegerField, StorableJSONField, json_mistake
from rlplatform.models import Role, User
from rlplatform.pagination import Paginator
from rlplatform.services import NotAllowed, ServiceError


@login_required
def hub(request: HttpRequest) -> HttpResponse:
    """The one Labeling link: each role lands where its work is."""
    user = request.user
    if user.is_contractor:
        return redirect("labeling_home")
    if user.is_reviewer:
        return redirect("labeling_review")
    return redirect("labeling_campaigns")


# --- the contractor's queue and workbench ---------------------------------------------------


@role_required(Role.CONTRACTOR)
def contractor_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "labeling/home.html",
        {
            "entries": selectors.queue_for(contractor=request.user),
            "summary": selectors.contractor_summary(contractor=request.user),
        },
    )


def _campaign_for_contractor(request: HttpRequest, campaign_id: int) -> Campaign:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    problem = queue.eligibility_problem(campaign, queue.profile_of(request.user))
    if problem and not request.user.is_admin:
        raise PermissionDenied(problem)
    return campaign


@role_required(Role.CONTRACTOR)
def workbench(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_for_contractor(request, campaign_id)
    summary = selectors.contractor_summary(contractor=request.user)
    return render(
        request,
        "labeling/workbench.html",
        {
            "campaign": campaign,
            "summary": summary,
            "skip_reasons": SkipReason.choices,
            "keys": keys_for(campaign),
        },
    )


def keys_for(campaign: Campaign, *, review: bool = False) -> list[tuple[str, str]]:
    """The keys of the workbench (or of the review page) for a campaign's kind and schema, as
    the key bar and the help list them."""
    types = {question["type"] for question in campaign.schema}
    keys: list[tuple[str, str]] = []
    if campaign.kind != CampaignKind.DEMONSTRATE:
        keys += [("→ or L", "next step"), ("← or H", "previous step")]
        keys += [("Home / End", "first step / final page")]
    if schemas.STEP_RATING in types:
        keys += [("+ or =", "rate this step good (+1), then go on")]
        keys += [("0", "rate this step neutral (0)"), ("-", "rate this step bad (-1)")]
        keys += [("N", "write a note on this step")]
    if schemas.FIRST_ERROR in types:
        keys += [("X", "mark this step as the first that went wrong")]
        keys += [("1 to 9", "what went wrong at the marked step")]
        keys += [("G", "no step went wrong"), ("N", "write a note on the first error")]
        if campaign.allow_takeover and not review:
            keys += [("O", "submit, then finish the task yourself from before that step")]
    if schemas.PREFERENCE in types:
        keys += [("A / B / T", "A is better / B is better / tie")]
    if types - {schemas.STEP_RATING, schemas.FIRST_ERROR, schemas.TEXT}:
        keys += [("↑ / ↓", "previous / next question")]
    if types & {
        schemas.OUTCOME_RATING,
        schemas.SINGLE_CHOICE,
        schemas.MULTIPLE_CHOICE,
        schemas.PREFERENCE,
    }:
        keys += [("1 to 9", "answer with the key shown on each choice")]
    if schemas.RUBRIC in types:
        keys += [("1 / 2", "check: yes / no, then the next check")]
    if schemas.TEXT in types:
        keys += [("C", "write in the comment box (Esc leaves it)")]
    if review:
        keys += [("Enter", "record the final label, then the next item")]
    elif campaign.kind == CampaignKind.DEMONSTRATE:
        keys += [("Tab, Enter", "move and act in the environment")]
        keys += [("Ctrl + Enter", "submit once the task is finished")]
    else:
        keys += [("Enter", "submit and get the next item")]
    if not review:
        keys += [("S", "skip this item, with a reason")]
        keys += [("U", "undo your last submission while its time lasts")]
    if campaign.kind != CampaignKind.DEMONSTRATE:
        keys += [("PageDown / Space", "scroll the page shown (PageUp, Shift + Space: back)")]
        keys += [("F", "into the page: arrows, Home / End scroll it, + / - zoom, Esc leaves")]
    keys += [("I", "instructions"), ("?", "these keys")]
    keys += [("Esc", "close a dialog, leave a text box")]
    return keys


def question_views(schema: list[dict]) -> list[dict[str, Any]]:
    """The schema's questions with the number key of each choice, for the templates."""
    views = []
    for number, question in enumerate(schema):
        view = {**question, "index": number}
        if question["type"] == schemas.OUTCOME_RATING:
            points = range(question["min"], question["max"] + 1)
            view["choices"] = [
                {"key": key, "value": value, "label": str(value)}
                for key, value in enumerate(points, start=1)
            ]
        elif question["type"] in (schemas.SINGLE_CHOICE, schemas.MULTIPLE_CHOICE):
            view["choices"] = [
                {"key": key, "value": option["value"], "label": option["label"]}
                for key, option in enumerate(question["options"], start=1)
            ]
        elif question["type"] == schemas.FIRST_ERROR:
            view["choices"] = [
                {"key": category["key"], "value": category["value"], "label": category["label"]}
                for category in question["categories"]
            ]
        elif question["type"] == schemas.RUBRIC:
            view["choices"] = [
                {"key": key, "value": check["name"], "label": check["label"]}
                for key, check in enumerate(question["checks"], start=1)
            ]
        elif question["type"] == schemas.PREFERENCE:
            view["strengths"] = [
                {"key": key, "value": key, "label": label} for key, label in STRENGTHS.items()
            ]
        views.append(view)
    return views


def _positions(*lengths: int) -> list[int]:
    return list(range(max(lengths) + 1))


def panel_context(assignment) -> dict[str, Any]:
    campaign = assignment.campaign
    item = assignment.item
    context: dict[str, Any] = {
        "assignment": assignment,
        "campaign": campaign,
        "goal": item.task.goal,
        "questions": question_views(campaign.schema),
        "idempotency_key": uuid.uuid4().hex,
    }
    if campaign.kind == CampaignKind.GRADE:
        trajectory = trajectory_of(item.episode_a)
        context.update(trajectory=trajectory, positions=_positions(trajectory.length))
    elif campaign.kind == CampaignKind.COMPARE:
        first, second = trajectory_of(item.episode_a), trajectory_of(item.episode_b)
        context.update(
            trajectory_a=first,
            trajectory_b=second,
            positions=_positions(first.length, second.length),
        )
    else:
        episode = services.assignment_start_episode(assignment=assignment)
        context.update(play_context(episode))
    return context


def _render_panel(request: HttpRequest, assignment, *, status: int = 200) -> HttpResponse:
    return render(request, "labeling/_panel.html", panel_context(assignment), status=status)


def _render_nothing(request: HttpRequest, campaign: Campaign, reason: str = "") -> HttpResponse:
    standing = ContractorStanding.objects.filter(campaign=campaign, contractor=request.user).first()
    paused = standing is not None and standing.status == StandingStatus.PAUSED
    return render(
        request,
        "labeling/_panel_none.html",
        {"campaign": campaign, "reason": reason, "paused": paused, "standing": standing},
    )


def _next_panel(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    try:
        assignment = queue.next_item_for(contractor=request.user, campaign=campaign)
    except (NotAllowed, ServiceError) as error:
        return _render_nothing(request, campaign, error.message)
    if assignment is None:
        return _render_nothing(request, campaign)
    return _render_panel(request, assignment)


@role_required(Role.CONTRACTOR)
@require_POST
def work_next(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The panel of the contractor's next item (or of the one they hold)."""
    return _next_panel(request, _campaign_for_contractor(request, campaign_id))


@role_required(Role.CONTRACTOR)
def assignment_panel(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = selectors.assignment_of(contractor=request.user, assignment_id=assignment_id)
    return _render_panel(request, assignment)


def _json_body(request: HttpRequest) -> dict:
    try:
        body = json_parse(request.body or b"{}")
    except BadJSON as error:
        raise ServiceError(error.problem, field=format_path(error.path) or "body") from None
    if not isinstance(body, dict):
        raise ServiceError("the request body is a JSON object")
    return body


def _error_response(error: ServiceError) -> JsonResponse:
    if isinstance(error, NotAllowed):
        status = 403
    elif error.code in ("conflict", "lease_expired"):
        status = 409
    else:
        status = 400
    fields = getattr(error, "problems", None) or (
        {error.field: [error.message]} if error.field else None
    )
    return JsonResponse(
        error_body(status_code=status, code=error.code, message=error.message, fields=fields),
        status=status,
    )


@role_required(Role.CONTRACTOR)
@require_POST
def assignment_submit(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Record the answers, then answer with the next item's panel, so it is on screen as soon
    as the judgment is saved. Errors come back as JSON that the workbench shows."""
    assignment = selectors.assignment_of(contractor=request.user, assignment_id=assignment_id)
    try:
        body = _json_body(request)
        spent = body.get("time_spent_ms")
        result = services.judgment_submit(
            assignment=assignment,
            contractor=request.user,
            answers=body.get("answers") or {},
            idempotency_key=str(body.get("idempotency_key") or ""),
            time_spent_ms=spent if isinstance(spent, int) and spent >= 0 else None,
        )
    except ServiceError as error:
        return _error_response(error)
    response = _next_panel(request, assignment.campaign)
    response["X-Judgment"] = str(result.judgment.pk)
    response["X-Judgment-Replayed"] = "true" if result.replayed else "false"
    return response


@role_required(Role.CONTRACTOR)
@require_POST
def assignment_skip(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = selectors.assignment_of(contractor=request.user, assignment_id=assignment_id)
    try:
        body = _json_body(request)
        services.assignment_skip(
            assignment=assignment,
            contractor=request.user,
            reason=str(body.get("reason") or ""),
            note=str(body.get("note") or ""),
        )
    except ServiceError as error:
        return _error_response(error)
    return _next_panel(request, assignment.campaign)


@role_required(Role.CONTRACTOR)
@require_POST
def assignment_undo(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Withdraw the last submission while its lease lasts: answer with its panel again, the
    withdrawn answers filled in."""
    assignment = selectors.assignment_of(contractor=request.user, assignment_id=assignment_id)
    try:
        result = services.judgment_undo(assignment=assignment, contractor=request.user)
    except ServiceError as error:
        return _error_response(error)
    context = panel_context(result.assignment)
    context["initial"] = result.answers
    return render(request, "labeling/_panel.html", context)


# --- review ---------------------------------------------------------------------------------


@role_required(Role.REVIEWER, Role.MANAGER)
def review_queue(request: HttpRequest) -> HttpResponse:
    items = selectors.review_queue_for(user=request.user)
    recorded = recorded_label(request)
    if request.GET.get("next"):
        first = items.first()
        if first is not None:
            target = reverse("labeling_review_item", args=[first.pk])
            if recorded:
                target += f"?recorded={recorded['item'].pk}"
            return redirect(target)
    rows = [{"item": item, "standing": standing_of(item.aggregate)} for item in items[:200]]
    reviews = selectors.campaign_list_for(user=request.user).exists()
    return render(
        request,
        "labeling/review_queue.html",
        {"rows": rows, "reviews_any": reviews, "recorded": recorded},
    )


def recorded_label(request: HttpRequest) -> dict[str, Any] | None:
    """The final label just recorded (`?recorded=<item id>`), in words, to confirm it on the
    page the reviewer moves on to; None unless it names an adjudicated item they review."""
    item_id = small_int(request.GET.get("recorded", ""))
    if item_id is None:
        return None
    try:
        item = selectors.review_item_for(user=request.user, item_id=item_id)
    except Http404:
        return None
    adjudication = getattr(item, "adjudication", None)
    if adjudication is None:
        return None
    return {
        "item": item,
        "words": label_words(item.campaign.schema, adjudication.answers),
        "note": adjudication.note,
    }


# What the review pages call an aggregate's questions that are not decided.
STANDING_WORDS = {quality.TIE: "Tie", quality.SPLIT: "Split"}


def standing_of(aggregate: dict | None) -> str:
    """ "Tie" when a question's judges tie (no answer has the most votes), else "Split" when
    one is below the campaign's threshold, else "" (decided, or not aggregated)."""
    standings = set(((aggregate or {}).get("status") or {}).values())
    for standing in (quality.TIE, quality.SPLIT):
        if standing in standings:
            return STANDING_WORDS[standing]
    return ""


def judges_of(item) -> list[dict[str, Any]]:
    """The item's judgments, each under an anonymous judge label."""
    judgments = item.judgments.order_by("id")
    return [
        {"label": f"Judge {number}", "judgment": judgment, "answers": judgment.answers}
        for number, judgment in enumerate(judgments, start=1)
    ]


def answer_rows(schema: list[dict], judges: list[dict], aggregate: dict | None) -> list[dict]:
    """One row per question: each judge's answer as text, then the aggregate's: its value when
    decided, else "Tie" or "Split" (no side is chosen for the judges)."""
    rows = []
    consensus = (aggregate or {}).get("answers", {})
    confidence = (aggregate or {}).get("confidence", {})
    standings = (aggregate or {}).get("status", {})
    for question in schema:
        if question["type"] == schemas.STEP_RATING:
            continue
        name = question["name"]
        standing = standings.get(name)
        rows.append(
            {
                "question": question,
                "answers": [_shown(question, judge["answers"].get(name)) for judge in judges],
                "standing": STANDING_WORDS.get(standing, ""),
                "aggregate": ""
                if standing in STANDING_WORDS
                else _shown(question, consensus.get(name)),
                "confidence": confidence.get(name),
            }
        )
    return rows


def _shown(question: dict, answer: Any) -> str:
    if answer is None:
        return "—"
    qtype = question["type"]
    if qtype == schemas.PREFERENCE:
        strength = STRENGTHS.get(answer.get("strength"))
        return f"{answer['choice']}" + (f" ({strength})" if strength else "")
    if qtype == schemas.RUBRIC:
        labels = {check["name"]: check["label"] for check in question["checks"]}
        return "; ".join(
            f"{labels.get(name, name)}: {'yes' if value else 'no'}"
            for name, value in answer.items()
        )
    if qtype == schemas.MULTIPLE_CHOICE:
        return ", ".join(answer) or "none"
    if qtype == schemas.FIRST_ERROR:
        if answer["step"] is None:
            return "no step went wrong"
        labels = {category["value"]: category["label"] for category in question["categories"]}
        shown = f"step {answer['step'] + 1}: {labels.get(answer['category'], answer['category'])}"
        return shown + (f" ({answer['note']})" if answer.get("note") else "")
    return str(answer)


def step_rows(schema: list[dict], judges: list[dict], aggregate: dict | None, length: int):
    """Per-step ratings side by side: one row per step, one column per judge."""
    question = next((q for q in schema if q["type"] == schemas.STEP_RATING), None)
    if question is None:
        return None
    name = question["name"]
    # A step whose judges tie has no majority (None): the page says "Tie". Before the item's
    # judgments are all in there is no majority to show at all.
    answers = (aggregate or {}).get("answers", {})
    consensus = (answers.get(name) or {}).get("ratings", [])
    rows = []
    for index in range(length):
        cells = []
        for judge in judges:
            given = judge["answers"].get(name) or {}
            ratings = given.get("ratings", [])
            notes = given.get("notes", {})
            cells.append(
                {
                    "rating": ratings[index] if index < len(ratings) else None,
                    "note": notes.get(str(index), ""),
                }
            )
        rows.append(
            {
                "number": index + 1,
                "cells": cells,
                "aggregate": consensus[index] if index < len(consensus) else None,
            }
        )
    return {"question": question, "rows": rows, "aggregated": name in answers}


@role_required(Role.REVIEWER, Role.MANAGER)
def review_item(request: HttpRequest, item_id: int) -> HttpResponse:
    item = selectors.review_item_for(user=request.user, item_id=item_id)
    campaign = item.campaign
    judges = judges_of(item)
    context: dict[str, Any] = {
        "item": item,
        "campaign": campaign,
        "goal": item.task.goal,
        "judges": judges,
        "answer_rows": answer_rows(campaign.schema, judges, item.aggregate),
        "questions": question_views(campaign.schema),
        "keys": keys_for(campaign, review=True),
        "adjudication": getattr(item, "adjudication", None),
        "standing": standing_of(item.aggregate),
        "initial": _initial_answers(item),
        "recorded": recorded_label(request),
    }
    if campaign.kind == CampaignKind.GRADE:
        trajectory = trajectory_of(item.episode_a)
        context.update(trajectory=trajectory, positions=_positions(trajectory.length))
        context["step_table"] = step_rows(
            campaign.schema, judges, item.aggregate, trajectory.length
        )
    elif campaign.kind == CampaignKind.COMPARE:
        first, second = trajectory_of(item.episode_a), trajectory_of(item.episode_b)
        context.update(
            trajectory_a=first,
            trajectory_b=second,
            positions=_positions(first.length, second.length),
        )
    return render(request, "labeling/review_item.html", context)


def _initial_answers(item) -> dict:
    """The answers the adjudication form starts from: the earlier adjudication, else what the
    judges decided. Where they tie or split nothing is filled in, so the reviewer is not handed
    a side: an undecided question is left empty, except that the steps and rubric checks with
    a majority keep it (only the tied ones are left empty)."""
    adjudication = getattr(item, "adjudication", None)
    if adjudication is not None:
        return adjudication.answers
    aggregate = item.aggregate or {}
    consensus = aggregate.get("answers") or {}
    standings = aggregate.get("status") or {}
    answers: dict[str, Any] = {}
    for question in item.campaign.schema:
        name, qtype = question["name"], question["type"]
        value = consensus.get(name)
        if value is None:
            continue
        if standings.get(name, quality.DECIDED) == quality.DECIDED:
            answers[name] = round(value) if qtype == schemas.OUTCOME_RATING else value
        elif qtype == schemas.STEP_RATING:
            answers[name] = {"ratings": value["ratings"]}
        elif qtype == schemas.RUBRIC:
            answers[name] = {check: vote for check, vote in value.items() if vote is not None}
    return answers


# --- the manager's pages --------------------------------------------------------------------


class TagsField(forms.CharField):
    def to_python(self, value):
        return [tag.strip() for tag in (value or "").split(",") if tag.strip()]

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value


class PrettyJSONField(StorableJSONField):
    """JSON shown indented, and refused with the line and column of the first problem."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=CampaignKind.choices)
    instructions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        help_text="Markdown. Contractors open it with the I key.",
    )
    schema = PrettyJSONField(
        widget=forms.Textarea(attrs={"rows": 14, "class": "code"}),
        help_text="The questions, as a JSON list (see the examples).",
    )
    sources = PrettyJSONField(
        widget=forms.Textarea(attrs={"rows": 5, "class": "code"}),
        required=False,
        help_text="Where items come from, as a JSON object.",
    )
    overlap = IntegerField(min_value=1, max_value=50, initial=3)
    priority = IntegerField(initial=0)
    gold_rate = FloatField(min_value=0, max_value=0.5, initial=0)
    gold_accuracy_threshold = FloatField(
        min_value=0, max_value=1, required=False, help_text="Pause contractors below this."
    )
    gold_min_judged = IntegerField(min_value=1, initial=5)
    qualification_size = IntegerField(min_value=0, initial=0)
    qualification_pass_rate = FloatField(min_value=0, max_value=1, initial=0.8)
    review_threshold = FloatField(
        min_value=0.5,
        max_value=1,
        initial=0.6,
        help_text="The confidence a label needs on every question; ties and splits go to review.",
    )
    eligible_groups = TagsField(required=False, help_text="Comma-separated; empty: everyone.")
    eligible_skills = TagsField(required=False, help_text="Comma-separated; empty: everyone.")
    lease_seconds = IntegerField(min_value=60, max_value=86_400, initial=900)
    allow_takeover = forms.BooleanField(
        required=False,
        help_text="Grade campaigns: after marking an agent's first wrong step, a contractor may "
        "finish the task by hand from just before it (key O).",
    )
    reviewers = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(role=Role.REVIEWER, is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Who adjudicates the items whose graders disagree. With nobody ticked, they "
        "wait for this campaign's managers.",
    )
    managers = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(role=Role.MANAGER, is_active=True),
        required=False,
        help_text="Managers besides the owner who may run this campaign.",
    )


def _apply_service_error(form: forms.Form, error: ServiceError) -> None:
    problems = getattr(error, "problems", None) or {error.field: [error.message]}
    for where, messages_ in problems.items():
        field = (where or "").split(".")[0].split("[")[0]
        for message in messages_:
            form.add_error(field if field in form.fields else None, message)


def builder_data() -> dict[str, Any]:
    """What the campaign builder offers, for its script: question types per kind, the
    examples, environments with their families, and the known source names."""
    return {
        "types": {kind: list(types) for kind, types in schemas.ALLOWED_TYPES.items()},
        "type_titles": TYPE_TITLES,
        "examples": {
            kind: {"schema": EXAMPLE_SCHEMAS[kind], "sources": EXAMPLE_SOURCES[kind]}
            for kind in CampaignKind.values
        },
        "environments": [
            {
                "id": env.id,
                "title": env.title,
                "families": [
                    {"name": name, "title": family.title} for name, family in env.families.items()
                ],
            }
            for env in environment_list()
        ],
        "episode_sources": list(EPISODE_SOURCES),
        "actor_kinds": list(ACTOR_KINDS),
        "rollout_modes": list(ROLLOUT_MODES),
        "max_keyed": schemas.MAX_KEYED,
        "error_categories": list(DEFAULT_ERROR_CATEGORIES),
    }


def schema_preview(*, kind: str, schema: Any) -> dict[str, Any]:
    """The context of the builder's preview (`labeling/_schema_preview.html`): the contractor's
    questions and keys for `schema` (JSON text, or the value it holds), or what is wrong with
    it."""
    if kind not in CampaignKind.values:
        kind = CampaignKind.GRADE
    problems: list[str] = []
    questions: list[dict] = []
    try:
        value = json_parse(schema or "[]") if isinstance(schema, str) else schema
    except BadJSON as error:
        problems.append(json_mistake(error))
    else:
        try:
            questions = schemas.validate_schema(value, kind=kind)
        except schemas.LabelSchemaError as error:
            problems = [m for messages_ in error.problems.values() for m in messages_]
    return {
        "problems": problems,
        "questions": question_views(questions),
        "keys": keys_for(Campaign(kind=kind, schema=questions)) if questions else [],
    }


def _form_preview(form: forms.Form) -> dict[str, Any]:
    """The preview of the schema a campaign form shows, rendered with the page so that it is
    there before the builder's script asks for another."""
    return schema_preview(kind=form["kind"].value(), schema=form["schema"].value())


@role_required(Role.MANAGER)
@require_POST
def campaign_preview(request: HttpRequest) -> HttpResponse:
    """The contractor's view of a schema being built: the workbench's own question widgets
    and keys, or what is wrong with the schema."""
    context = schema_preview(kind=request.POST.get("kind", ""), schema=request.POST.get("schema"))
    return render(request, "labeling/_schema_preview.html", context)


@role_required(Role.MANAGER)
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = list(selectors.campaign_list_for(user=request.user))
    rows = [
        {
            "campaign": campaign,
            "progress": selectors.campaign_progress(campaign=campaign),
            "agreement": selectors.agreement_latest(campaign=campaign),
            "has_reviewers": campaign.reviewers.exists(),
        }
        for campaign in campaigns
    ]
    return render(request, "labeling/campaigns.html", {"rows": rows})


@role_required(Role.MANAGER)
def campaign_new(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind") if request.GET.get("kind") in CampaignKind.values else "grade"
    form = CampaignForm(
        request.POST or None,
        initial={
            "kind": kind,
            "schema": EXAMPLE_SCHEMAS[kind],
            "sources": EXAMPLE_SOURCES[kind],
            "reviewers": list(User.objects.filter(role=Role.REVIEWER, is_active=True)),
        },
    )
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        try:
            campaign = services.campaign_create(
                created_by=request.user,
                name=values.pop("name"),
                kind=values.pop("kind"),
                reviewers=list(values.pop("reviewers")),
                managers=list(values.pop("managers")),
                **values,
            )
        except ServiceError as error:
            _apply_service_error(form, error)
        else:
            messages.success(request, f"Campaign “{campaign.name}” created as a draft.")
            return redirect("labeling_dashboard", campaign_id=campaign.pk)
    return render(
        request,
        "labeling/campaign_form.html",
        {
            "form": form,
            "kinds": CampaignKind.choices,
            "kind": kind,
            "campaign": None,
            "builder": builder_data(),
            "preview": _form_preview(form),
        },
        status=400 if form.errors else 200,
    )


@role_required(Role.MANAGER)
def campaign_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
    initial = {name: getattr(campaign, name) for name in services.SETTINGS}
    initial.update(
        kind=campaign.kind,
        reviewers=list(campaign.reviewers.all()),
        managers=list(campaign.managers.all()),
    )
    form = CampaignForm(request.POST or None, initial=initial)
    form.fields["kind"].disabled = True
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        values.pop("kind")
        changed = {name: values[name] for name in form.changed_data if name in services.SETTINGS}
        try:
            services.campaign_update(
                campaign=campaign,
                updated_by=request.user,
                reviewers=list(values["reviewers"]),
                managers=list(values["managers"]),
                **changed,
            )
        except ServiceError as error:
            _apply_service_error(form, error)
        else:
            messages.success(request, "Campaign saved.")
            return redirect("labeling_dashboard", campaign_id=campaign.pk)
    return render(
        request,
        "labeling/campaign_form.html",
        {
            "form": form,
            "campaign": campaign,
            "kind": campaign.kind,
            "builder": builder_data(),
            "preview": _form_preview(form),
        },
        status=400 if form.errors else 200,
    )


@role_required(Role.MANAGER)
def dashboard(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
    report = selectors.agreement_latest(campaign=campaign)
    throughput = selectors.campaign_throughput(campaign=campaign, hours=24)
    jobs = platform_selectors.job_list_for(user=request.user).filter(params__campaign=campaign.pk)
    # The agreement job while it is queued or running (the report shows its outcome after).
    agreement_jobs = jobs.filter(kind=services.AGREEMENT_JOB, finished_at__isnull=True)[:1]
    generate_jobs = jobs.filter(kind=services.GENERATE_JOB)[:2]
    first_errors = selectors.campaign_first_errors(campaign=campaign)
    if first_errors is not None:
        for group in ("by_family", "by_policy"):
            first_errors[f"{group}_chart"] = charts.stacked_bar_chart(
                first_errors[group], first_errors["categories"]
            )
    return render(
        request,
        "labeling/dashboard.html",
        {
            "campaign": campaign,
            "progress": selectors.campaign_progress(campaign=campaign),
            "timing": selectors.campaign_timing(campaign=campaign),
            "chart": charts.throughput_chart(throughput),
            "report": report,
            "contractors": selectors.campaign_contractors(campaign=campaign, report=report),
            "review_items": selectors.review_queue_for(user=request.user, campaign=campaign)[:5],
            "reviewers": list(campaign.reviewers.all()),
            "agreement_jobs": agreement_jobs,
            "generate_jobs": generate_jobs,
            "first_errors": first_errors,
            "takeovers": selectors.campaign_takeovers(campaign=campaign)
            if campaign.allow_takeover
            else None,
            "transitions": [
                (value, label)
                for value, label in CampaignStatus.choices
                if value in services.TRANSITIONS[campaign.status]
            ],
        },
    )


def _service_redirect(request: HttpRequest, campaign: Campaign, action) -> HttpResponse:
    try:
        message = action()
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, message)
    return redirect("labeling_dashboard", campaign_id=campaign.pk)


@role_required(Role.MANAGER)
@require_POST
def campaign_status(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
    target = request.POST.get("status", "")

    def change() -> str:
        services.campaign_set_status(campaign=campaign, status=target, changed_by=request.user)
        return f"Campaign is now {target}."

    return _service_redirect(request, campaign, change)


@role_required(Role.MANAGER)
@require_POST
def campaign_generate(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)

    def start() -> str:
        job = services.items_generate_start(campaign=campaign, requested_by=request.user)
        return f"Generating items from the sources (job #{job.pk})."

    return _service_redirect(request, campaign, start)


@role_required(Role.MANAGER)
@require_POST
def campaign_agreement(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)

    def start() -> str:
        job = services.agreement_start(campaign=campaign, requested_by=request.user)
        return f"Computing agreement (job #{job.pk})."

    return _service_redirect(request, campaign, start)


@role_required(Role.MANAGER)
@require_POST
def standing_resume(request: HttpRequest, campaign_id: int, user_id: int) -> HttpResponse:
    campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
    standing = get_object_or_404(ContractorStanding, campaign=campaign, contractor_id=user_id)

    def resume() -> str:
        services.standing_resume(standing=standing, resumed_by=request.user)
        return f"{standing.contractor} may work on this campaign again."

    return _service_redirect(request, campaign, resume)


# --- the item browser -----------------------------------------------------------------------

ITEMS_PER_PAGE = 50
BULK_ACTIONS = {
    "requeue": (
        services.items_requeue,
        "Re-queue",
        "Each item wants one more judgment: complete items open again (out of review) until "
        "it arrives. Items already waiting for judgments, adjudicated items and gold items "
        "are left as they are.",
    ),
    "review": (
        services.items_send_to_review,
        "Send to review",
        "Fully judged items go to the review queue for a reviewer's final label. Items in "
        "review already, adjudicated items, items not fully judged and gold items are left "
        "as they are.",
    ),
    "remove": (
        services.items_remove,
        "Remove",
        "Items nobody has judged are deleted. Items with judgments are kept, judgments and "
        "all: they are paid work that agreement, gold accuracy and published exports rest on "
        "(re-queue them or send them to review instead). Items a contractor holds now are "
        "kept too.",
    ),
}
BULK_DONE = {"requeue": "re-queued", "review": "sent to review", "remove": "removed"}


class ItemFilterForm(forms.Form):
    state = forms.MultipleChoiceField(
        choices=ItemState.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    min_confidence = FloatField(min_value=0, max_value=1, required=False)
    max_confidence = FloatField(min_value=0, max_value=1, required=False)
    gold = forms.ChoiceField(
        choices=[("", "Gold and regular"), ("gold", "Gold only"), ("regular", "Regular only")],
        required=False,
    )
    contractor = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    family = forms.ChoiceField(required=False)
    q = forms.CharField(max_length=200, required=False, strip=True)

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contractor"].choices = [("", "Anyone")] + [
            (person.pk, person.username) for person in selectors.campaign_judges(campaign=campaign)
        ]
        self.fields["family"].choices = [("", "Every family")] + [
            (family, family) for family in selectors.campaign_families(campaign=campaign)
        ]

    def clean_q(self) -> str:
        return self.cleaned_data["q"].replace("\x00", "")

    def filters(self) -> selectors.ItemFilters:
        """The valid filters (a field with an error filters nothing; the page says why)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return selectors.ItemFilters(
            states=tuple(data.get("state") or ()),
            min_confidence=data.get("min_confidence"),
            max_confidence=data.get("max_confidence"),
            gold=data.get("gold") or "",
            contractor=data.get("contractor"),
            family=data.get("family") or "",
            search=data.get("q") or "",
        )


def _item_filters(request: HttpRequest, campaign: Campaign, query: str | None = None):
    data = QueryDict(query) if query is not None else request.GET
    form = ItemFilterForm(data, campaign=campaign)
    form.is_valid()
    return form, form.filters()


def _filter_query(request: HttpRequest, query: str | None = None) -> str:
    """The filters of a query string, without the page number and the empty ones, to carry
    into forms and links."""
    data = QueryDict(query) if query is not None else request.GET
    kept = QueryDict(mutable=True)
    for name, values in data.lists():
        values = [value for value in values if value]
        if name != "page" and values:
            kept.setlist(name, values)
    return kept.urlencode()


def export_kinds_for(campaign: Campaign) -> list:
    """The label export kinds that read a question this campaign asks."""
    asked = {(campaign.kind, question["type"]) for question in campaign.schema}
    return [
        kind
        for kind in KINDS.values()
        if kind.label_source in asked or asked.intersection(kind.also_reads)
    ]


def export_filters_for(campaign: Campaign, filters: selectors.ItemFilters) -> dict[str, Any]:
    """The export filters that say what the browser's filters say: the campaign, the minimum
    confidence (both read the final label's confidence) and the family. Exports have no
    equivalent of the others, so they are not passed on."""
    exported: dict[str, Any] = {"campaigns": [campaign.pk]}
    if filters.min_confidence is not None:
        exported["min_confidence"] = filters.min_confidence
    if filters.family:
        exported["families"] = [filters.family]
    return exported


def _not_exported(filters: selectors.ItemFilters) -> list[str]:
    names = []
    if filters.states:
        names.append("status")
    if filters.max_confidence is not None:
        names.append("maximum confidence")
    if filters.gold:
        names.append("gold")
    if filters.contractor is not None:
        names.append("contractor")
    if filters.search:
        names.append("search")
    return names


@role_required(Role.MANAGER)
def item_browser(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
    form, filters = _item_filters(request, campaign)
    query = _filter_query(request)
    items = selectors.item_browse(campaign=campaign, filters=filters)
    page = Paginator(items, ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    leased = selectors.items_leased(list(page.object_list))
    rows = []
    for item in page.object_list:
        state = selectors.item_state(item, leased=item.pk in leased)
        label = selectors.item_final_label(item=item)
        rows.append(
            {
                "item": item,
                "state": state,
                "state_help": selectors.STATE_HELP[state],
                "label": _label_status(label),
            }
        )
    response = render(
        request,
        "labeling/items.html",
        {
            "campaign": campaign,
            "form": form,
            "page": page,
            "rows": rows,
            "query": query,
            "actions": [(name, title) for name, (_, title, _) in BULK_ACTIONS.items()],
            "states": [
                (value, label, selectors.STATE_HELP[value]) for value, label in ItemState.choices
            ],
            "chosen_states": filters.states,
            "export_kinds": export_kinds_for(campaign),
            "export_formats": ExportFormat.choices,
            "export_filters": export_filters_for(campaign, filters),
            "not_exported": _not_exported(filters),
        },
    )
    if request.htmx:
        # The address the filters were applied at, without the empty fields the form sent.
        page_part = f"&page={page.number}" if page.number > 1 else ""
        response = push_url(response, f"{request.path}?{query}{page_part}".rstrip("?"))
    return response


def _label_status(label: dict | None) -> str:
    return LabelStatus(label["status"]).label if label else "No label yet"


def label_words(schema: list[dict], answers: dict) -> list[tuple[str, str]]:
    """A label in words: (question, answer) for each question it answers."""
    words = []
    for question in schema:
        answer = answers.get(question["name"])
        if answer is None:
            continue
        if question["type"] == schemas.STEP_RATING:
            ratings = answer.get("ratings") or []
            counts = [
                (ratings.count(value), word)
                for value, word in ((1, "good"), (0, "neutral"), (-1, "bad"))
            ]
            text = ", ".join(f"{count} {word}" for count, word in counts if count)
            if None in ratings:
                text += f", {ratings.count(None)} tied"
            words.append((question["prompt"], f"{len(ratings)} steps: {text}"))
        else:
            words.append((question["prompt"], _shown(question, answer)))
    return words


@role_required(Role.MANAGER)
def item_detail(request: HttpRequest, campaign_id: int, item_id: int) -> HttpResponse:
    """An item's judgments side by side, a column per contractor, and its final label."""
    campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
    item = selectors.item_of_campaign(campaign=campaign, item_id=item_id)
    judgments = item.judgments.select_related("contractor").order_by("id")
    judges = [
        {"label": judgment.contractor.username, "judgment": judgment, "answers": judgment.answers}
        for judgment in judgments
    ]
    label = selectors.item_final_label(item=item)
    context: dict[str, Any] = {
        "campaign": campaign,
        "item": item,
        "state": selectors.item_state(item, leased=bool(selectors.items_leased([item]))),
        "judges": judges,
        "answer_rows": answer_rows(campaign.schema, judges, item.aggregate),
        "label": label,
        "label_status": _label_status(label),
        "label_words": label_words(campaign.schema, label["answers"]) if label else [],
        "back": request.GET.get("back", ""),
    }
    if campaign.kind == CampaignKind.GRADE and item.episode_a_id:
        context["step_table"] = step_rows(
            campaign.schema, judges, item.aggregate, item.episode_a.step_count
        )
    return render(request, "labeling/item_detail.html", context)


def _bulk_item_ids(request: HttpRequest, campaign: Campaign, query: str) -> list[int]:
    if request.POST.get("scope") == "filtered":
        _, filters = _item_filters(request, campaign, query)
        items = selectors.item_browse(campaign=campaign, filters=filters)
        return list(items.values_list("pk", flat=True)[: services.MAX_BULK_ITEMS + 1])
    ids = (small_int(pk) for pk in request.POST.getlist("items"))
    return [pk for pk in ids if pk is not None]


@role_required(Role.MANAGER)
@require_POST
def items_bulk(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """A bulk action on the selected items (or on every item the filters match): first a
    confirmation saying what it does to how many items, then, confirmed, the action."""
    campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
    query = _filter_query(request, request.POST.get("query", ""))
    browser = f"{reverse('labeling_items', args=[campaign.pk])}?{query}"
    action = request.POST.get("action", "")
    if action not in BULK_ACTIONS:
        messages.error(request, "Choose what to do with the items.")
        return redirect(browser)
    service, title, explanation = BULK_ACTIONS[action]
    item_ids = _bulk_item_ids(request, campaign, query)
    if not item_ids:
        messages.error(request, "Select at least one item, or choose every item the filters match.")
        return redirect(browser)
    if request.POST.get("confirm") != "yes":
        return render(
            request,
            "labeling/items_confirm.html",
            {
                "campaign": campaign,
                "action": action,
                "title": title,
                "explanation": explanation,
                "item_ids": item_ids,
                "count": min(len(item_ids), services.MAX_BULK_ITEMS),
                "too_many": len(item_ids) > services.MAX_BULK_ITEMS,
                "scope": request.POST.get("scope", "selected"),
                "query": query,
                "browser": browser,
            },
        )
    try:
        result = service(campaign=campaign, item_ids=item_ids, requested_by=request.user)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect(browser)
    done = f"{_count_items(result.changed)} {BULK_DONE[action]}."
    left = "; ".join(f"{_count_items(n)} ({why})" for why, n in (result.left or {}).items())
    messages.success(request, f"{done} Not changed: {left}." if left else done)
    return redirect(browser)


def _count_items(count: int) -> str:
    return f"{count:,} item{'' if count == 1 else 's'}"


@role_required(Role.MANAGER)
@require_POST
def items_export(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Export the campaign's labels with the browser's filters that exports share."""
    campaign = selectors.campaign_managed_by(user=request.user, campaign_id=campaign_id)
    query = _filter_query(request, request.POST.get("query", ""))
    _, filters = _item_filters(request, campaign, query)
    kind = request.POST.get("kind", "")
    if kind not in {export_kind.name for export_kind in export_kinds_for(campaign)}:
        messages.error(request, "Choose one of the export kinds this campaign's labels give.")
        return redirect(f"{reverse('labeling_items', args=[campaign.pk])}?{query}")
    export_filters = export_filters_for(campaign, filters)
    if request.POST.get("include_unresolved"):
        export_filters["include_unresolved"] = True
    try:
        export = export_services.export_start(
            kind=kind,
            format=request.POST.get("format", ""),
            filters=export_filters,
            created_by=request.user,
        )
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect(f"{reverse('labeling_items', args=[campaign.pk])}?{query}")
    messages.success(request, f"Export #{export.pk} started with the filters shown.")
    return redirect("exports")
