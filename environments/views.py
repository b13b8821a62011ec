"""Pages: the environment catalog, and the page where a person plays an episode. The play
page steps the episode through the agent API, so a person's steps are recorded exactly as an
agent's are."""

import secrets

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from environments import selectors, services
from environments.engine import page_to_html
from environments.models import ActorKind
from rlplatform.decorators import role_required
from rlplatform.models import Role


@login_required
def catalog(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "environments/catalog.html",
        {
            "environments": selectors.environment_list(),
            "can_try": request.user.is_admin or request.user.is_manager,
            "recent": selectors.episode_list_for(user=request.user).filter(user=request.user)[:10],
        },
    )


@role_required(Role.MANAGER)
@require_POST
def try_family(request: HttpRequest, env_id: str, family: str) -> HttpResponse:
    """Start an episode of a family on a fresh seed for the manager to play."""
    seed = request.POST.get("seed")
    task = services.task_get_or_create(
        env_id=env_id,
        family=family,
        seed=int(seed) if seed and seed.isdigit() else secrets.randbelow(1_000_000),
    )
    episode = services.episode_create(
        task=task, user=request.user, actor_kind=ActorKind.CONTRACTOR, source="browser"
    )
    return redirect("play", episode_id=episode.pk)


def play_context(episode) -> dict:
    env = services.environment_get(episode.env_id)
    page = env.render(services.episode_state(episode))
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
