"""The open sessions of one server process: capacity, the idle-session reaper, and the worker
threads that touch the database.

Steps from all sessions go through one `Batcher`: while a batch is being applied, the steps that
arrive meanwhile wait, and the next batch applies them all in one transaction (`episodes_step`
locks the rows in id order, writes the steps with one INSERT and the episodes with one UPDATE).
At low load a step goes alone and waits for nothing; at high load a commit (and its WAL flush) is
shared by many steps, which is what lets a few hundred sessions step with every step persisted.
Resets are batched the same way, each through `episode_create`, many in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.db import close_old_connections

from environments.openenv import services
from environments.services import ShownPage

logger = logging.getLogger(__name__)

_step_executor: ThreadPoolExecutor | None = None
_io_executor: ThreadPoolExecutor | None = None


def _in_thread(function: Callable, *args: Any, **kwargs: Any) -> Any:
    # Worker threads live as long as the process, so they honour DB_CONN_MAX_AGE and drop
    # broken connections the way Django does between requests.
    close_old_connections()
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()


def step_executor() -> ThreadPoolExecutor:
    global _step_executor
    if _step_executor is None:
        _step_executor = ThreadPoolExecutor(
            settings.OPENENV_STEP_THREADS, thread_name_prefix="openenv-step"
        )
    return _step_executor


def io_executor() -> ThreadPoolExecutor:
    global _io_executor
    if _io_executor is None:
        _io_executor = ThreadPoolExecutor(
            settings.OPENENV_IO_THREADS, thread_name_prefix="openenv-io"
        )
    return _io_executor


async def run_in_thread(function: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run a database call (reset, state, close) in a worker thread."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(io_executor(), lambda: _in_thread(function, *args, **kwargs))


class StepTimeout(Exception):
    def __init__(self, seconds: float, started: bool):
        self.seconds = seconds
        self.started = started
        if started:
            message = (
                f"the request took longer than {seconds:g} s; it may still be applied: "
                "send state to see the step count"
            )
        else:
            message = f"the request waited more than {seconds:g} s and was dropped, unapplied"
        super().__init__(message)


@dataclass(eq=False)
class _Pending:
    item: Any
    future: asyncio.Future
    started: bool = False


class Batcher:
    """Groups the requests of all sessions into calls of `apply(items) -> results`, one
    transaction each, at most `threads` calls in flight: requests that arrive while the
    threads are busy wait, and go together in the next call."""

    def __init__(
        self,
        apply: Callable[[list], list],
        executor: Callable[[], ThreadPoolExecutor],
        threads: int,
        max_batch: int,
    ) -> None:
        self.apply = apply
        self.executor = executor
        self.pending: deque[_Pending] = deque()
        self.in_flight = 0
        self.threads = threads
        self.max_batch = max_batch

    async def submit(self, item: Any, timeout: float) -> Any:
        loop = asyncio.get_running_loop()
        pending = _Pending(item, loop.create_future())
        self.pending.append(pending)
        self._dispatch()
        try:
            return await asyncio.wait_for(asyncio.shield(pending.future), timeout)
        except TimeoutError:
            if not pending.started:
                self.pending.remove(pending)
            pending.future.cancel()
            raise StepTimeout(timeout, pending.started) from None

    def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while self.pending and self.in_flight < self.threads:
            batch = []
            while self.pending and len(batch) < self.max_batch:
                pending = self.pending.popleft()
                pending.started = True
                batch.append(pending)
            self.in_flight += 1
            items = [pending.item for pending in batch]
            future = loop.run_in_executor(
                self.executor(), lambda items=items: _in_thread(self.apply, items)
            )
            future.add_done_callback(lambda done, batch=batch: self._finished(batch, done))

    def _finished(self, batch: list[_Pending], done: asyncio.Future) -> None:
        self.in_flight -= 1
        error = done.exception()
        if error is not None:
            logger.error("an OpenEnv batch failed", exc_info=error)
        results = [error] * len(batch) if error is not None else done.result()
        for pending, result in zip(batch, results, strict=True):
            if pending.future.done():
                continue  # timed out meanwhile
            if isinstance(result, BaseException):
                pending.future.set_exception(result)
            else:
                pending.future.set_result(result)
        self._dispatch()


class CapacityReached(Exception):
    def __init__(self, active: int, maximum: int):
        self.active_sessions = active
        self.max_sessions = maximum
        super().__init__(
            f"Server at capacity: {active}/{maximum} sessions active. "
            "Cannot accept new connections."
        )


class SessionOwner(Protocol):
    """What the pool needs of a connection: ways to close it for being idle, and for
    credentials that no longer hold."""

    async def close_idle(self, idle_seconds: float) -> None: ...

    async def close_refused(self, refused: services.Unauthorized) -> None: ...


@dataclass(eq=False)
class Session:
    owner: SessionOwner
    env_id: str
    principal: services.Principal
    opened_at: float = field(default_factory=time.monotonic)
    last_activity: float = field(default_factory=time.monotonic)
    busy: bool = False
    episode_id: int | None = None
    # Whether the last reply said the episode was done: then a reset or close has nothing to end.
    episode_done: bool = False
    # The page the last step's reply showed, which the next step starts from.
    shown: ShownPage | None = None

    def touch(self) -> None:
        self.last_activity = time.monotonic()


class SessionPool:
    """The sessions of one event loop (one server process): at most `OPENENV_MAX_SESSIONS`,
    a reaper that closes those idle longer than `OPENENV_IDLE_TIMEOUT_SECONDS`, and a watcher
    that closes, every `OPENENV_CREDENTIAL_CHECK_SECONDS`, those whose key or session URL was
    revoked or expired since they opened (one query for all of them, not one per message)."""

    def __init__(self) -> None:
        self.sessions: set[Session] = set()
        self.max_sessions = settings.OPENENV_MAX_SESSIONS
        self.idle_timeout = float(settings.OPENENV_IDLE_TIMEOUT_SECONDS)
        self.step_timeout = float(settings.OPENENV_STEP_TIMEOUT_SECONDS)
        self.steps = Batcher(
            services.openenv_step,
            step_executor,
            settings.OPENENV_STEP_THREADS,
            settings.OPENENV_MAX_BATCH,
        )
        self.resets = Batcher(
            services.openenv_resets,
            io_executor,
            settings.OPENENV_IO_THREADS,
            settings.OPENENV_MAX_BATCH,
        )
        self.credential_check = float(settings.OPENENV_CREDENTIAL_CHECK_SECONDS)
        self._reaper: asyncio.Task | None = None
        self._watcher: asyncio.Task | None = None

    def open(self, owner: SessionOwner, env_id: str, principal: services.Principal) -> Session:
        if len(self.sessions) >= self.max_sessions:
            raise CapacityReached(len(self.sessions), self.max_sessions)
        session = Session(owner=owner, env_id=env_id, principal=principal)
        self.sessions.add(session)
        loop = asyncio.get_running_loop()
        if self._reaper is None or self._reaper.done():
            self._reaper = loop.create_task(self._reap())
        if self._watcher is None or self._watcher.done():
            self._watcher = loop.create_task(self._watch_credentials())
        return session

    def release(self, session: Session) -> None:
        self.sessions.discard(session)

    async def step(self, session: Session, item: services.StepItem) -> Any:
        session.busy = True
        try:
            return await self.steps.submit(item, self.step_timeout)
        finally:
            session.busy = False
            session.touch()

    async def reset(self, session: Session, item: services.ResetItem) -> Any:
        session.busy = True
        try:
            return await self.resets.submit(item, self.step_timeout)
        finally:
            session.busy = False
            session.touch()

    async def _reap(self) -> None:
        interval = min(max(self.idle_timeout / 4, 0.2), 5.0)
        while self.sessions:
            await asyncio.sleep(interval)
            now = time.monotonic()
            idle = [
                session
                for session in list(self.sessions)
                if not session.busy and now - session.last_activity > self.idle_timeout
            ]
            for session in idle:
                self.release(session)
                try:
                    await session.owner.close_idle(now - session.last_activity)
                except Exception:
                    logger.warning("closing an idle OpenEnv session failed", exc_info=True)

    async def _watch_credentials(self) -> None:
        while self.sessions:
            await asyncio.sleep(self.credential_check)
            sessions = list(self.sessions)
            try:
                refused = await run_in_thread(
                    services.principals_refused, [session.principal for session in sessions]
                )
            except Exception:
                logger.warning("checking OpenEnv sessions' credentials failed", exc_info=True)
                continue
            closing = []
            for session in sessions:
                principal = session.principal
                reason = refused.get((principal.api_key.pk, principal.session_url_id))
                if reason is not None and session in self.sessions:
                    self.release(session)
                    closing.append(session.owner.close_refused(reason))
            for outcome in await asyncio.gather(*closing, return_exceptions=True):
                if isinstance(outcome, Exception):
                    logger.warning("closing a refused OpenEnv session failed", exc_info=outcome)


_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SessionPool] = (
    weakref.WeakKeyDictionary()
)


def pool() -> SessionPool:
    """This event loop's session pool (one per server process; tests may run several loops)."""
    loop = asyncio.get_running_loop()
    found = _pools.get(loop)
    if found is None:
        found = _pools[loop] = SessionPool()
    return found
