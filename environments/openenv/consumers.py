"""The OpenEnv WebSocket endpoint: one connection, one session, one episode at a time.

`ws://host/openenv/<env-id>/s/<token>/ws` (a session URL) or `ws://host/openenv/<env-id>/ws`
with `Authorization: Bearer <agent key>`. Failing credentials are answered with an `error`
message saying which (missing, invalid, expired, revoked, forbidden) and a close; a full server
with `CAPACITY_REACHED` and the active and maximum session counts, as OpenEnv's server does.
Anything wrong with a message is answered with an `error` message and the session goes on.
"""

from __future__ import annotations

import logging

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from environments.openenv import protocol, services
from environments.openenv.sessions import CapacityReached, Session, StepTimeout, pool, run_in_thread
from rlplatform.services import ServiceError

logger = logging.getLogger(__name__)


class OpenEnvConsumer(AsyncWebsocketConsumer):
    session: Session | None = None

    async def dispatch(self, message: dict) -> None:
        # Channels first tidies the database connections of asgiref's shared sync thread, a hop
        # to that thread and back on every message. This consumer never queries there: its
        # database work runs on the sessions' worker threads, which tidy their own.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        await self.accept()
        route = self.scope["url_route"]["kwargs"]
        self.env_id = route["env_id"]
        headers = dict(self.scope.get("headers") or [])
        client = self.scope.get("client") or (None, None)
        try:
            principal = await run_in_thread(
                services.principal_for,
                env_id=self.env_id,
                path_token=route.get("token"),
                authorization=(headers.get(b"authorization") or b"").decode("latin-1") or None,
                ip_address=client[0],
            )
            self.env_id = await run_in_thread(services.environment_id, self.env_id)
        except services.Unauthorized as refused:
            await self._refuse(
                protocol.error_message(
                    protocol.SESSION_ERROR, refused.message, reason=refused.reason
                ),
                refused.close_code,
                f"unauthorized: {refused.reason}",
            )
            return
        except ServiceError as error:
            await self._refuse(
                protocol.error_message(
                    protocol.FACTORY_ERROR, error.message, factory_name=self.env_id
                ),
                protocol.CLOSE_NORMAL,
                "unknown environment",
            )
            return
        try:
            self.session = pool().open(self, self.env_id, principal)
        except CapacityReached as full:
            await self._refuse(
                protocol.error_message(
                    protocol.CAPACITY_REACHED,
                    str(full),
                    active_sessions=full.active_sessions,
                    max_sessions=full.max_sessions,
                ),
                protocol.CLOSE_CAPACITY,
                "capacity reached",
            )

    async def _refuse(self, message: str, code: int, reason: str) -> None:
        await self._quietly(self.send(text_data=message))
        await self._quietly(self.close(code=code, reason=reason))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        session = self.session
        if session is None:
            return  # refused at connect; the close is on its way
        session.touch()
        if text_data is None and bytes_data is not None:
            text_data = bytes_data.decode("utf-8", errors="replace")
        try:
            message = protocol.parse_message(text_data)
            if message.type == "reset":
                reply = await self._reset(session, protocol.parse_reset(message.data))
            elif message.type == "step":
                reply = await self._step(session, protocol.parse_action(message.data))
            elif message.type == "state":
                state = await run_in_thread(services.openenv_state, episode_id=session.episode_id)
                reply = protocol.state_message(state)
            elif message.type == "mcp":
                reply = protocol.mcp_not_supported(message.data)
            else:  # close
                await self._end(session)
                await self._quietly(self.close(code=protocol.CLOSE_NORMAL))
                return
        except protocol.ProtocolError as error:
            reply = protocol.error_message(error.code, error.message, **error.extra)
        except ServiceError as error:
            text = f"{error.field}: {error.message}" if error.field else error.message
            reply = protocol.error_message(protocol.EXECUTION_ERROR, text)
        except StepTimeout as timeout:
            reply = protocol.error_message(protocol.EXECUTION_ERROR, str(timeout))
        except Exception as error:
            logger.exception("OpenEnv session failed on a message")
            reply = protocol.error_message(protocol.EXECUTION_ERROR, str(error))
        session.touch()
        await self._quietly(self.send(text_data=reply))

    async def _quietly(self, sending) -> None:
        # The client may be gone already (OpenEnv's client sends close and hangs up at once).
        try:
            await sending
        except Exception as error:
            logger.debug("OpenEnv client went away: %r", error)

    async def _reset(self, session: Session, params: protocol.ResetParams) -> str:
        previous = None if session.episode_done else session.episode_id
        result = await pool().reset(
            session,
            services.ResetItem(session.env_id, session.principal, params, previous),
        )
        if isinstance(result, ServiceError):
            raise result  # refused before anything changed: the session keeps its episode
        episode, payload = result
        session.episode_id, session.episode_done, session.shown = episode.pk, False, None
        return protocol.observation_message(payload)

    async def _step(self, session: Session, action: str) -> str:
        if session.episode_id is None:
            raise protocol.ProtocolError(
                protocol.EXECUTION_ERROR, "no episode in this session yet: send reset first"
            )
        result = await pool().step(
            session, services.StepItem(session.episode_id, action, shown=session.shown)
        )
        if isinstance(result, protocol.ProtocolError):
            raise result
        session.episode_done = result.payload["done"]
        session.shown = result.shown
        return protocol.observation_message(result.payload)

    async def _end(self, session: Session) -> None:
        self.session = None
        pool().release(session)
        episode_id, session.episode_id = session.episode_id, None
        if episode_id is not None and not session.episode_done:
            try:
                await run_in_thread(services.openenv_close, episode_id=episode_id)
            except Exception:
                logger.warning("could not end episode %s of a closed session", episode_id)

    async def close_idle(self, idle_seconds: float) -> None:
        """Called by the reaper: say why, end the episode, close."""
        await self._quietly(
            self.send(
                text_data=protocol.error_message(
                    protocol.SESSION_ERROR,
                    f"session closed after {idle_seconds:.0f} s without a message "
                    f"(the limit is {pool().idle_timeout:g} s)",
                    reason="idle",
                )
            )
        )
        if self.session is not None:
            await self._end(self.session)
        await self._quietly(self.close(code=protocol.CLOSE_IDLE, reason="idle"))

    async def close_refused(self, refused: services.Unauthorized) -> None:
        """Called by the credential watcher: the key or session URL this session opened with
        was revoked or has expired. Stop taking messages, say why, end the episode, close."""
        session, self.session = self.session, None
        await self._quietly(
            self.send(
                text_data=protocol.error_message(
                    protocol.SESSION_ERROR, refused.message, reason=refused.reason
                )
            )
        )
        if session is not None:
            await self._end(session)
        await self._quietly(self.close(code=refused.close_code, reason=refused.reason))

    async def disconnect(self, code: int) -> None:
        if self.session is not None:
            await self._end(self.session)


class NoRouteConsumer(AsyncWebsocketConsumer):
    """Any other WebSocket path: say where sessions are, and close."""

    async def connect(self) -> None:
        await self.accept()
        await self.send(
            text_data=protocol.error_message(
                protocol.SESSION_ERROR,
                f"no WebSocket endpoint at {self.scope['path']}; sessions are at "
                "/openenv/<env-id>/ws (or a session URL's /ws)",
            )
        )
        await self.close(code=4404)
