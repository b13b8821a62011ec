"""Pages: the Evaluations page (leaderboards per environment and split with their chart, the
form that starts an evaluation, recent runs) and a run's page, with its results as files."""

import json
from collections.abc import Sequence

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from environments import observations, rollouts
from environments.engine.prompts import DEFAULT_HISTORY, DEFAULT_PROMPT
from environments.engine.rewards import REWARD_MODES
from environments.engine.splits import SPLITS
from environments.forms import FamilyPickerForm
from environments.views import HISTORY_CHOICES, PROMPT_CHOICES
from evaluations import charts, files, selectors, services
from evaluations.apis import EvaluationOutput
from evaluations.models import Evaluation
from rlplatform.decorators import role_required
from rlplatform.inputs import IntegerField
from rlplatform.models import Role
from rlplatform.services import ServiceError

BOARD_PAGE_SIZE = 20  # runs on a page of a leaderboard


class EvaluationForm(FamilyPickerForm):
    """An evaluation from the page: one environment chosen, and the families of its split to
    play ticked under it (none ticked: all of the split's)."""

    environment_field = "environment"
    environment_input = "radio"

    name = forms.CharField(
        required=False, max_length=200, help_text="Optional: how the leaderboards call the run."
    )
    environment = forms.ChoiceField()
    split = forms.ChoiceField(choices=[(split, split) for split in SPLITS], initial="test")
    tasks_per_family = IntegerField(
        min_value=1, max_value=services.MAX_TASKS_PER_FAMILY, initial=10, label="Tasks per family"
    )
    attempts = IntegerField(
        min_value=1, max_value=rollouts.MAX_ATTEMPTS, initial=3, label="Attempts per task (k)"
    )
    policy = forms.ChoiceField(
        choices=[
            ("scripted", "Scripted solver"),
            ("random", "Random actions"),
            ("chat", "Chat model (OpenAI-compatible)"),
        ]
    )
    base_url = forms.URLField(required=False, label="Model server URL", assume_scheme="https")
    model = forms.CharField(required=False, max_length=200, label="Model name")
    prompt = forms.ChoiceField(
        choices=PROMPT_CHOICES, initial=DEFAULT_PROMPT, required=False, label="Prompt"
    )
    history = forms.ChoiceField(
        choices=HISTORY_CHOICES, initial=DEFAULT_HISTORY, required=False, label="History"
    )
    reward_mode = forms.ChoiceField(choices=[(mode, mode) for mode in REWARD_MODES])
    observation_mode = forms.ChoiceField(
        choices=[("", "default"), *((mode, mode) for mode in observations.TEXT_MODES)],
        required=False,
        help_text="How a chat model is shown pages; by default as step rows show them (pruned, "
        "within 1,800 characters).",
    )
    max_observation_chars = IntegerField(
        required=False,
        min_value=observations.MIN_OBSERVATION_CHARS,
        max_value=observations.MAX_OBSERVATION_CHARS,
        label="Observation budget (characters)",
    )
    concurrency = IntegerField(
        min_value=1, max_value=rollouts.MAX_CONCURRENCY, initial=8, label="Episodes at once"
    )

    def start_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        policy = {"kind": data.pop("policy")}
        base_url, model, prompt = data.pop("base_url"), data.pop("model"), data.pop("prompt")
        history = data.pop("history")
        if policy["kind"] == "chat":
            policy.update(
                base_url=base_url,
                model=model,
                prompt=prompt or DEFAULT_PROMPT,
                history=history or DEFAULT_HISTORY,
            )
        data["observation_mode"] = data["observation_mode"] or None
        data["families"] = self.ticked_families(data["environment"])
        return {**data, "policy": policy}


def _board_chart(evaluations: Sequence[Evaluation]) -> charts.RateChart:
    return charts.rate_chart(
        [
            (
                evaluation.policy_label,
                evaluation.report["overall"]["success_rate"],
                evaluation.report["overall"]["success_interval"],
            )
            for evaluation in evaluations
        ]
    )


def _board_page(request: HttpRequest, board: selectors.Leaderboard) -> dict:
    """One page of a leaderboard, with its chart: each board has its own page parameter, so
    paging one keeps the others where they are."""
    param = f"page-{board.env_id}-{board.split}"
    page = Paginator(board.evaluations, BOARD_PAGE_SIZE).get_page(request.GET.get(param))
    others = request.GET.copy()
    others.pop(param, None)
    return {
        "board": board,
        "page": page,
        "chart": _board_chart(page.object_list),
        "param": param,
        "query": others.urlencode(),
    }


@role_required(Role.MANAGER)
def evaluation_list(request: HttpRequest) -> HttpResponse:
    form = EvaluationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            evaluation = services.evaluation_start(**form.start_arguments(), user=request.user)
        except ServiceError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.message if field else f"{error.field}: {error.message}")
        else:
            return redirect("evaluation_detail", evaluation_id=evaluation.pk)
    boards = [_board_page(request, board) for board in selectors.leaderboards()]
    recent = selectors.evaluation_list_for(user=request.user)[:25]
    return render(
        request,
        "evaluations/evaluations.html",
        {"form": form, "boards": boards, "recent": recent},
        status=400 if form.errors else 200,
    )


@role_required(Role.MANAGER)
def evaluation_detail(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = get_object_or_404(
        selectors.evaluation_list_for(user=request.user), pk=evaluation_id
    )
    chart = None
    if evaluation.report:
        chart = charts.rate_chart(
            [
                (row["family"], row["success_rate"], row["success_interval"])
                for row in evaluation.report["families"]
            ]
        )
    return render(
        request,
        "evaluations/detail.html",
        {"evaluation": evaluation, "job": evaluation.job, "chart": chart},
    )


@role_required(Role.MANAGER)
def evaluation_download(request: HttpRequest, evaluation_id: int, extension: str) -> HttpResponse:
    evaluation = get_object_or_404(
        selectors.evaluation_list_for(user=request.user), pk=evaluation_id
    )
    filename = f"evaluation-{evaluation.pk}-{evaluation.env_id}-{evaluation.split}.{extension}"
    if extension == "csv":
        response = HttpResponse(files.results_csv(evaluation), content_type="text/csv")
    else:
        body = json.dumps(EvaluationOutput(evaluation).data, indent=2)
        response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
