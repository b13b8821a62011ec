"""Writes and reads behind the OpenEnv server: session URLs, who a connection acts as, and the
reset / step / state / close of a session's episode.

Every function here is synchronous and touches the database; the WebSocket consumer runs them
in worker threads (`sessions.py`), the HTTP views call them directly. Steps go through
`environments.services.episodes_step`, the one path every actor's steps take.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from environments import observations
from environments import services as episode_services
from environments.engine import Page, page_to_axtree, page_to_html
from environments.engine.observe import observe
from environments.engine.rewards import progress_paid, reward_rubric
from environments.engine.splits import draw_seed, family_of_seed
from environments.engine.text import small_int
from environments.engine.variants import DEFAULT as DEFAULT_VARIANT
from environments.models import ActorKind, Episode, EpisodeStatus, Task
from environments.openenv import protocol
from environments.openenv.models import SessionUrl
from rlplatform.models import ApiKey, ApiKeyScope, AuditEvent, User
from rlplatform.services import ApiKeyRejected, ServiceError, api_key_verify, audit_record

TOKEN_PREFIX = "rlps"  # noqa: S105  (a prefix, not a secret)
SOURCE = "openenv"


# --- who a connection acts as ------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """Who a session acts as: an API key with the `agent` scope and its owner, reached through
    a session URL or an `Authorization: Bearer` header."""

    user: User
    api_key: ApiKey
    session_url_id: int | None = None


class Unauthorized(Exception):
    """Why a connection may not open a session. `reason` is one of missing, invalid, expired,
    revoked, forbidden; the message is safe to show the caller and says what to do."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message

    @property
    def close_code(self) -> int:
        return (
            protocol.CLOSE_FORBIDDEN if self.reason == "forbidden" else protocol.CLOSE_UNAUTHORIZED
        )


MINT_HINT = "mint a session URL with POST /api/v1/openenv/sessions/"


def _digest(token: str) -> str:
    # 256 random bits: a fast hash is enough, there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("invalid", "the Authorization header must be 'Bearer <key or token>'")
    return value.strip()


def principal_for(
    *,
    env_id: str,
    path_token: str | None = None,
    authorization: str | None = None,
    ip_address: str | None = None,
) -> Principal:
    """Who presents these credentials: a session URL's token in the path, or a Bearer header
    holding an agent API key or a session URL's token. Raises Unauthorized saying why not."""
    token = path_token or bearer_token(authorization)
    if not token:
        raise Unauthorized(
            "missing",
            "no credentials: open the session URL that POST /api/v1/openenv/sessions/ returns, "
            "or send 'Authorization: Bearer <agent API key>'",
        )
    if token.startswith(f"{TOKEN_PREFIX}_"):
        return _principal_from_session_url(token, env_id)
    if path_token is not None:
        raise Unauthorized("invalid", f"this session URL is not valid; {MINT_HINT}")
    try:
        key = api_key_verify(presented=token, ip_address=ip_address)
    except ApiKeyRejected as rejected:
        reason = (
            "revoked"
            if "revoked" in str(rejected)
            else "expired"
            if "expired" in str(rejected)
            else "invalid"
        )
        raise Unauthorized(reason, str(rejected)) from None
    return _with_agent_scope(Principal(user=key.owner, api_key=key))


def _principal_from_session_url(token: str, env_id: str) -> Principal:
    found = (
        SessionUrl.objects.select_related("api_key__owner")
        .filter(token_hash=_digest(token))
        .first()
    )
    # Compare digests in constant time even though the lookup already matched one.
    if found is None or not hmac.compare_digest(found.token_hash, _digest(token)):
        raise Unauthorized("invalid", f"this session URL is not valid; {MINT_HINT}")
    refused = _refusal(found.api_key, found)
    if refused is not None:
        raise refused
    if found.env_id != environment_id(env_id):
        raise Unauthorized(
            "forbidden", f"this session URL is for {found.env_id}, not {environment_id(env_id)}"
        )
    now = timezone.now()
    if found.last_used_at is None or now - found.last_used_at > timedelta(minutes=1):
        SessionUrl.objects.filter(pk=found.pk).update(last_used_at=now)
    return Principal(user=found.api_key.owner, api_key=found.api_key, session_url_id=found.pk)


def _refusal(key: ApiKey, session_url: SessionUrl | None = None) -> Unauthorized | None:
    """Why a key (reached through this session URL, if any) may no longer act, or None."""
    if session_url is not None and session_url.is_revoked:
        return Unauthorized(
            "revoked",
            "this session URL was revoked at "
            f"{session_url.revoked_at.isoformat(timespec='seconds')}; {MINT_HINT}",
        )
    if session_url is not None and session_url.is_expired:
        return Unauthorized(
            "expired",
            "this session URL expired at "
            f"{session_url.expires_at.isoformat(timespec='seconds')}; {MINT_HINT}",
        )
    if key.is_revoked or key.is_expired:
        state = "revoked" if key.is_revoked else "expired"
        through = "that minted this session URL" if session_url is not None else "of this session"
        return Unauthorized(state, f"the API key {through} was {state}")
    if not key.owner.is_active:
        return Unauthorized(
            "revoked", "the owner of the API key behind this session is deactivated"
        )
    if ApiKeyScope.AGENT not in key.scopes:
        return Unauthorized("forbidden", "this API key needs the 'agent' scope to open sessions")
    return None


def principals_refused(principals: list[Principal]) -> dict[tuple[int, int | None], Unauthorized]:
    """The credentials of open sessions, checked again (the WebSocket pool asks every
    OPENENV_CREDENTIAL_CHECK_SECONDS): for each (key id, session URL id) that may no longer
    act, revoked, expired or its owner deactivated since the session opened, why."""
    keys = ApiKey.objects.select_related("owner").in_bulk({p.api_key.pk for p in principals})
    urls = SessionUrl.objects.in_bulk({p.session_url_id for p in principals if p.session_url_id})
    refused = {}
    for principal in principals:
        credential = (principal.api_key.pk, principal.session_url_id)
        key = keys.get(principal.api_key.pk)
        url = urls.get(principal.session_url_id) if principal.session_url_id else None
        if key is None or (principal.session_url_id and url is None):
            refused[credential] = Unauthorized(
                "revoked", "the credentials of this session were deleted"
            )
            continue
        reason = _refusal(key, url)
        if reason is not None:
            refused[credential] = reason
    return refused


def _with_agent_scope(principal: Principal) -> Principal:
    if ApiKeyScope.AGENT not in principal.api_key.scopes:
        raise Unauthorized("forbidden", "this API key needs the 'agent' scope to open sessions")
    return principal


def environment_id(env_id: str) -> str:
    """The canonical id ("bank-v1") of an environment named any way the engine accepts."""
    return episode_services.environment_get(env_id).id


# --- session URLs ------------------------------------------------------------------------


@transaction.atomic
def session_url_create(
    *,
    api_key: ApiKey,
    env_id: str,
    ttl_seconds: int | None = None,
    name: str = "",
    ip_address: str | None = None,
) -> tuple[SessionUrl, str]:
    """Mint a session URL for an agent key; return it with its token, which is never stored
    nor shown again."""
    if ApiKeyScope.AGENT not in api_key.scopes:
        raise ServiceError("only keys with the 'agent' scope mint session URLs", field="api_key")
    env_id = environment_id(env_id)
    ttl = settings.OPENENV_SESSION_URL_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    longest = settings.OPENENV_SESSION_URL_MAX_TTL_SECONDS
    if not 60 <= ttl <= longest:
        raise ServiceError(f"ttl_seconds must be between 60 and {longest}", field="ttl_seconds")
    expires_at = timezone.now() + timedelta(seconds=ttl)
    if api_key.expires_at is not None:
        expires_at = min(expires_at, api_key.expires_at)
    token = f"{TOKEN_PREFIX}_{secrets.token_urlsafe(32)}"
    session_url = SessionUrl.objects.create(
        token_hash=_digest(token),
        api_key=api_key,
        env_id=env_id,
        name=name.strip()[:100],
        expires_at=expires_at,
    )
    _audit(AuditEvent.Action.SESSION_URL_CREATED, session_url, ip_address)
    return session_url, token


@transaction.atomic
def session_url_revoke(*, session_url: SessionUrl, ip_address: str | None = None) -> SessionUrl:
    session_url = SessionUrl.objects.select_for_update().get(pk=session_url.pk)
    if session_url.revoked_at is None:
        session_url.revoked_at = timezone.now()
        session_url.save(update_fields=["revoked_at"])
        _audit(AuditEvent.Action.SESSION_URL_REVOKED, session_url, ip_address)
    return session_url


def _audit(action: str, session_url: SessionUrl, ip_address: str | None) -> None:
    # A session URL is a credential: who minted or revoked one is on record, as for keys.
    audit_record(
        action=action,
        actor_label=f"key:{session_url.api_key.prefix}",
        target=f"session_url:{session_url.pk}",
        ip_address=ip_address,
        details={
            "environment": session_url.env_id,
            "expires_at": session_url.expires_at.isoformat(),
        },
    )


# --- a session's episode -----------------------------------------------------------------


def openenv_episode_id(episode: Episode) -> str:
    """The id OpenEnv clients see: the one given to reset, else the platform's."""
    return (episode.metadata.get(SOURCE) or {}).get("episode_id") or str(episode.pk)


def observation_payload(
    *,
    episode: Episode,
    page: Page,
    reward: float | None = 0.0,
    error: str = "",
    previous: Page | None = None,
) -> dict[str, Any]:
    """OpenEnv's `{observation, reward, done}` for what the actor sees now. `text` is the page
    in the episode's observation mode and budget (`previous`: the page a diff compares with);
    `axtree_txt` the whole accessibility tree."""
    task = episode.task
    ended = episode.is_finished
    code, message = episode_services.step_refusal(error)
    axtree = page_to_axtree(page)
    text = axtree
    if episode.observation_mode != "axtree" or episode.max_observation_chars is not None:
        text = observe(
            page,
            episode.observation_mode,
            previous=previous,
            max_chars=episode.max_observation_chars,
        )
    components = (episode.outcome or {}).get("reward_components", {}) if ended else {}
    return {
        "observation": {
            "text": text,
            "url": page.url,
            "screenshot": None,
            "goal": task.goal,
            "axtree_txt": axtree,
            "pruned_html": page_to_html(page),
            "error": message,
            "last_action_error": bool(error),
            "error_code": code,
            "truncated": episode.status == EpisodeStatus.TRUNCATED,
            "task_id": task.pk,
            "reward_components": components,
            "episode_id": openenv_episode_id(episode),
            "platform_episode_id": episode.pk,
            "step_count": episode.step_count,
        },
        "reward": reward,
        "done": ended,
    }


def state_payload(episode: Episode | None) -> dict[str, Any]:
    """OpenEnv's `State` of a session's episode (BrowserGym's fields plus the platform's)."""
    if episode is None:
        return protocol.empty_state()
    page = episode_services.episode_page(episode)
    return {
        "episode_id": openenv_episode_id(episode),
        "step_count": episode.step_count,
        "benchmark": protocol.BENCHMARK,
        "task_name": episode.task.family,
        "task_id": str(episode.task_id),
        "goal": episode.task.goal,
        "current_url": page.url,
        "max_steps": episode.task.max_steps,
        "cum_reward": cumulative_reward(episode),
        "environment": episode.env_id,
        "seed": episode.seed,
        "variant": episode.variant,
        "status": episode.status,
        "platform_episode_id": episode.pk,
        "reward_components": (episode.outcome or {}).get("reward_components", {})
        if episode.is_finished
        else {},
    }


def cumulative_reward(episode: Episode) -> float:
    """The rewards of the episode's steps so far: its return once it has ended; before, what
    progress checks have paid (the other modes reward the last step only)."""
    if episode.is_finished:
        return float(episode.reward or 0.0)
    if episode.reward_mode != "progress":
        return 0.0
    return progress_paid(reward_rubric(episode.env_id, episode.task.family), episode.paid_checks)


def _pick_task(env_id: str, params: protocol.ResetParams) -> Task:
    env = episode_services.environment_get(env_id)
    if params.task_id is not None:
        task = Task.objects.filter(pk=params.task_id, env_id=env.id).first()
        if task is None:
            raise ServiceError(f"{env.id} has no task {params.task_id}", field="task_id")
        if params.seed is not None and params.seed != task.seed:
            raise ServiceError(
                f"task {task.pk} is {task.family} for seed {task.seed}, not seed {params.seed}; "
                "give task_id alone, or task_name and seed",
                field="seed",
            )
        if params.task_name is not None and params.task_name != task.family:
            raise ServiceError(
                f"task {task.pk} is of family {task.family}, not {params.task_name}",
                field="task_name",
            )
        return task
    # No seed: a fresh one from the train split, so that a trainer never meets held-out tasks.
    seed = params.seed if params.seed is not None else draw_seed(_SYSTEM_RANDOM, "train")
    family = params.task_name or family_of_seed(env.id, seed)
    return episode_services.task_get_or_create(env_id=env.id, family=family, seed=seed)


_SYSTEM_RANDOM = random.SystemRandom()


@dataclass(frozen=True)
class ResetItem:
    env_id: str
    principal: Principal
    params: protocol.ResetParams
    previous_episode_id: int | None = None


def openenv_reset(
    *,
    env_id: str,
    principal: Principal,
    params: protocol.ResetParams,
    previous_episode_id: int | None = None,
) -> tuple[Episode, dict[str, Any]]:
    """Start a new episode for a session (ending the one it had, if still running) and return
    it with the first observation. The same task and seed always give the same first state.
    A refused reset (an unknown task, a seed that does not fit) changes nothing."""
    (result,) = openenv_resets([ResetItem(env_id, principal, params, previous_episode_id)])
    if isinstance(result, ServiceError):
        raise result
    return result


def openenv_resets(
    items: list[ResetItem],
) -> list[tuple[Episode, dict[str, Any]] | ServiceError]:
    """Many sessions' resets (see `openenv_reset`) with one commit for their episodes; a
    refused one does not stop the others."""
    # Tasks first, each committed as it is made: made inside the shared transaction, the same
    # new tasks made by two server processes in another order deadlocked both batches.
    tasks: list[tuple[Task, observations.EpisodeSettings] | ServiceError] = []
    for item in items:
        params = item.params
        try:
            settings = observations.episode_settings(
                reward_mode=params.reward_mode,
                observation_mode=params.observation_mode,
                max_observation_chars=params.max_observation_chars,
                text_only=True,
            )
            tasks.append((_pick_task(item.env_id, params), settings))
        except ServiceError as error:
            tasks.append(error)
    results: list[tuple[Episode, dict[str, Any]] | ServiceError] = []
    with transaction.atomic():
        for item, picked in zip(items, tasks, strict=True):
            if isinstance(picked, ServiceError):
                results.append(picked)
                continue
            task, settings = picked
            if item.previous_episode_id is not None:
                openenv_close(episode_id=item.previous_episode_id)
            metadata: dict[str, Any] = {"session_url": item.principal.session_url_id}
            if item.params.episode_id is not None:
                metadata["episode_id"] = item.params.episode_id
            episode = episode_services.episode_create(
                task=task,
                user=item.principal.user,
                api_key=item.principal.api_key,
                actor_kind=ActorKind.AGENT,
                source=SOURCE,
                metadata={SOURCE: metadata},
                settings=settings,
                variant=item.params.variant or DEFAULT_VARIANT,
            )
            page = episode_services.episode_page(episode)
            results.append((episode, observation_payload(episode=episode, page=page)))
    return results


@dataclass(frozen=True)
class StepItem:
    episode_id: int
    action: str
    request_id: str | None = None
    # The page the session's last reply showed (see ShownPage).
    shown: episode_services.ShownPage | None = None


@dataclass(frozen=True)
class StepReply:
    payload: dict[str, Any]
    # To send with the session's next step.
    shown: episode_services.ShownPage


def openenv_step(items: list[StepItem]) -> list[StepReply | protocol.ProtocolError]:
    """Apply one action to each episode, in one transaction, and return each one's
    observation payload or the error to send. A refused action is recorded as a failed step
    (it counts towards the step limit) and comes back as an observation whose `error` says
    why, as BrowserGym's OpenEnv server does, so a model's mistake never ends a rollout."""
    results = episode_services.episodes_step(
        requests=[
            episode_services.StepRequest(
                episode_id=item.episode_id,
                action=item.action,
                idempotency_key=item.request_id,
                shown=item.shown,
                record_refusal=True,
            )
            for item in items
        ]
    )
    replies: list[StepReply | protocol.ProtocolError] = []
    for result in results:
        if isinstance(result, ServiceError):
            message = result.message
            if result.code == "conflict":
                message += " (send reset)"
            replies.append(protocol.ProtocolError(protocol.EXECUTION_ERROR, message))
            continue
        episode = result.episode
        payload = observation_payload(
            episode=episode,
            page=result.page,
            reward=result.step.reward,
            error=result.step.error,
            previous=result.page_before() if episode.observation_mode == "diff" else None,
        )
        replies.append(StepReply(payload, result.shown()))
    return replies


def openenv_state(*, episode_id: int | None) -> dict[str, Any]:
    if episode_id is None:
        return state_payload(None)
    return state_payload(Episode.objects.select_related("task").get(pk=episode_id))


def openenv_close(*, episode_id: int) -> None:
    """End a session's episode if it is still running (the client reset, closed or went away);
    the verifier still records its outcome."""
    episode = Episode.objects.filter(pk=episode_id, status=EpisodeStatus.RUNNING).first()
    if episode is not None:
        episode_services.episode_abandon(episode=episode)


def episode_for(*, principal: Principal, env_id: str, episode_id: str) -> Episode:
    """The principal's episode of an environment that an HTTP request names: by the id given
    to reset, else by the platform's id."""
    episodes = Episode.objects.select_related("task").filter(
        user=principal.user, env_id=environment_id(env_id), source=SOURCE
    )
    found = episodes.filter(**{f"metadata__{SOURCE}__episode_id": episode_id}).order_by("-id")
    episode = found.first()
    platform_id = small_int(episode_id)
    if episode is None and platform_id is not None:
        episode = episodes.filter(pk=platform_id).first()
    if episode is None:
        raise ServiceError(
            f"no episode '{episode_id}' of yours", field="episode_id", code="not_found"
        )
    return episode
