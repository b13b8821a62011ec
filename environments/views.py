"""Pages: the environment catalog, and the page where a person plays an episode. The play
page steps the episode through the agent API, so a person's steps are recorded exactly as an
agent's are."""

import secrets

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from environments import imports, rollouts, selectors, services
from environments.engine import page_to_html
from environments.engine.prompts import DEFAULT_HISTORY, DEFAULT_PROMPT
from environments.engine.text import ascii_digits
from environments.engine.variants import VARIANTS
from environments.forms import FamilyPickerForm
from environments.models import ActorKind
from rlplatform.decorators import role_required
from rlplatform.inputs import IntegerField
from rlplatform.models import Role
from rlplatform.selectors import job_list_for


@login_required
def catalog(request: HttpRequest) -> HttpResponse:
    checks = selectors.latest_check_reports()
    return render(
        request,
        "environments/catalog.html",
        {
            # Each environment with its latest checker report (None before the first).
            "environments": [(env, checks.get(env.id)) for env in selectors.environment_list()],
            "can_try": request.user.is_admin or request.user.is_manager,
            "recent": selectors.episode_list_for(user=request.user).filter(user=request.user)[:10],
        },
    )


@role_required(Role.MANAGER)
@require_POST
def try_family(request: HttpRequest, env_id: str, family: str) -> HttpResponse:
    """Start an episode of a family on a fresh seed for the manager to play."""
    seed = request.POST.get("seed", "")
    try:
        task = services.task_get_or_create(
            env_id=env_id,
            family=family,
            seed=int(seed) if ascii_digits(seed) else secrets.randbelow(1_000_000),
        )
    except services.ServiceError as error:
        raise Http404(error.message) from None
    episode = services.episode_create(
        task=task, user=request.user, actor_kind=ActorKind.CONTRACTOR, source="browser"
    )
    return redirect("play", episode_id=episode.pk)


def play_context(episode) -> dict:
    env = services.environment_get(episode.env_id)
    page = services.episode_page(episode)
    return {"episode": episode, "page": page, "page_html": page_to_html(page), "env": env}


@login_required
def play(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = get_object_or_404(
        selectors.episode_list_for(user=request.user).filter(user=request.user), pk=episode_id
    )
    return render(request, "environments/play.html", play_context(episode))


@login_required
def play_outcome(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = get_object_or_404(
        selectors.episode_list_for(user=request.user).filter(user=request.user), pk=episode_id
    )
    return render(request, "environments/_outcome.html", {"episode": episode})


# A chat model's prompts (environments/engine/prompts.py), as the rollout and evaluation forms
# offer them.
PROMPT_CHOICES = [
    ("step", "Step rows' prompt: the action alone (a model fine-tuned on exported rows)"),
    ("reasoning", "Think first, then the action (a general model)"),
]
# The history a chat model's prompt shows, as exports' `history` option writes step rows.
HISTORY_CHOICES = [
    ("actions", "The steps so far, one line each"),
    ("last_pages:1", "The steps so far, the last with its page"),
    ("last_pages:2", "The steps so far, the last two with their pages"),
    ("none", "None: the current page only"),
]


class RolloutForm(FamilyPickerForm):
    """A rollout from the page: environments ticked, and in each the families to play (none
    ticked: all of them); model settings only for the chat policy."""

    environments = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    count = IntegerField(
        min_value=1, max_value=rollouts.MAX_ITEMS, initial=10, label="Seeds per family"
    )
    seed_start = IntegerField(
        min_value=0, max_value=services.MAX_SEED, initial=0, label="First seed"
    )
    variants = forms.MultipleChoiceField(
        required=False,
        choices=[(variant, variant.capitalize()) for variant in VARIANTS],
        widget=forms.CheckboxSelectMultiple,
        label="UI variants (none ticked: default)",
    )
    policy = forms.ChoiceField(
        choices=[
            ("scripted", "Scripted solver"),
            ("random", "Random actions"),
            ("chat", "Chat model (OpenAI-compatible)"),
        ],
        initial="scripted",
        widget=forms.RadioSelect,
    )
    base_url = forms.URLField(required=False, label="Model server URL", assume_scheme="https")
    model = forms.CharField(required=False, max_length=200, label="Model name")
    prompt = forms.ChoiceField(
        choices=PROMPT_CHOICES, initial=DEFAULT_PROMPT, required=False, label="Prompt"
    )
    history = forms.ChoiceField(
        choices=HISTORY_CHOICES, initial=DEFAULT_HISTORY, required=False, label="History"
    )
    concurrency = IntegerField(min_value=1, max_value=256, initial=8, label="Episodes at once")

    def clean(self):
        data = super().clean()
        if data.get("policy") == "chat":
            for name in ("base_url", "model"):
                if not data.get(name):
                    self.add_error(name, "a chat model needs this")
        return data

    def planned_families(self) -> list[str]:
        """The families to play: those ticked in each environment, or all of an environment's
        when none of them is ticked."""
        families: list[str] = []
        for env in self.catalog:
            if env.id not in self.cleaned_data["environments"]:
                continue
            mine = self.ticked_families(env.id)
            families += [name for name in (mine or env.families) if name not in families]
        return families

    def spec(self) -> dict:
        data = self.cleaned_data
        policy = {"kind": data["policy"]}
        if data["policy"] == "chat":
            policy.update(
                base_url=data["base_url"],
                model=data["model"],
                prompt=data["prompt"] or DEFAULT_PROMPT,
                history=data["history"] or DEFAULT_HISTORY,
            )
        return {
            "environments": data["environments"],
            "families": self.planned_families(),
            "count": data["count"],
            "seed_start": data["seed_start"],
            "variants": data["variants"],
            "policy": policy,
            "concurrency": data["concurrency"],
        }


@role_required(Role.MANAGER)
def rollout_list(request: HttpRequest) -> HttpResponse:
    form = RolloutForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = rollouts.rollout_start(spec=form.spec(), user=request.user)
        except services.ServiceError as error:
            field = (error.field or "").removeprefix("policy.")
            form.add_error(field if field in form.fields else None, error.message)
        else:
            return redirect("job_detail", job_id=job.pk)
    jobs = job_list_for(user=request.user).filter(kind="rollout")[:25]
    return render(
        request,
        "environments/rollouts.html",
        {"form": form, "jobs": jobs},
        status=400 if form.errors else 200,
    )


class ImportForm(forms.Form):
    file = forms.FileField(help_text="JSONL: one trajectory a line.")


@role_required(Role.MANAGER)
def import_list(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.import_start(file=form.cleaned_data["file"], user=request.user)
        except services.ServiceError as error:
            form.add_error("file", error.message)
        else:
            return redirect(f"{reverse('imports')}#job-{job.pk}")
    jobs = job_list_for(user=request.user).filter(kind="import_trajectories")[:20]
    return render(
        request,
        "environments/imports.html",
        {"form": form, "jobs": jobs, "max_lines": imports.MAX_LINES},
        status=400 if form.errors else 200,
    )
