"""Running the web app under uvicorn: in the foreground (``hubaudit serve``) or in a thread
(tests, ``demo --serve``), where :class:`BackgroundServer` returns once the socket listens."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

import uvicorn

from hubaudit.config import Config, resolve_secret
from hubaudit.errors import ConfigError

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from hubaudit.store.repository import Store

MIN_SECRET = 32


def secret_key(config: Config) -> str:
    """The key that signs session cookies: ``[web] secret_key_env`` or ``secret_key_file``."""
    web = config.web
    if web.secret_key_env is None and web.secret_key_file is None:
        raise ConfigError(
            "the web app needs a secret key to sign sessions: set [web] secret_key_env "
            "(or secret_key_file) and put at least 32 random characters there"
        )
    secret = resolve_secret(web.secret_key_env, web.secret_key_file, "[web] secret key").reveal()
    if len(secret) < MIN_SECRET:
        raise ConfigError(f"[web] secret key: at least {MIN_SECRET} characters, please")
    return secret


def build_app(config: Config, store: Store, secret: str) -> Starlette:
    from hubaudit.web.app import create_app

    return create_app(config, store, secret)


class _Server(uvicorn.Server):
    """uvicorn's server, telling a waiting thread (``ready``) and ``on_ready`` (with its URL)
    when it listens, or that it failed to start."""

    def __init__(
        self, config: uvicorn.Config, on_ready: Callable[[str], None] | None = None
    ) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._on_ready = on_ready

    @property
    def url(self) -> str:
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def startup(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        try:
            await super().startup(sockets)  # type: ignore[arg-type]
            if self.started and self._on_ready is not None:
                self._on_ready(self.url)
        finally:
            self.ready.set()


def serve_forever(
    app: Starlette, host: str, port: int, on_ready: Callable[[str], None] | None = None
) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn's own handling); ``on_ready(url)`` once it listens
    (port 0: the port it got)."""
    _Server(uvicorn.Config(app, host=host, port=port, log_config=None), on_ready).run()


class BackgroundServer:
    """The app served in a thread on ``host``:``port`` (0: any free port); ``url`` once
    entered. Leaving stops it and waits for the thread."""

    def __init__(self, app: Starlette, host: str = "127.0.0.1", port: int = 0) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_config=None, access_log=False, lifespan="off"
        )
        self._server = _Server(config)
        self._thread = threading.Thread(target=self._server.run, name="hubaudit-web", daemon=True)
        self.url = ""

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        self._server.ready.wait()
        if not self._server.started:
            self._thread.join()
            raise RuntimeError("the web app did not start (is the port taken?)")
        self.url = self._server.url
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join()
