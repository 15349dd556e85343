"""A real SMTP server (aiosmtpd) on a loopback port the system picks as it binds, so that tests
on parallel workers never race for a port."""

from __future__ import annotations

from typing import Any

from aiosmtpd.controller import Controller

# a deadline, not a wait: the server thread may start slowly on a loaded two-core machine
READY_SECONDS = 60.0


class LoopbackSMTP(Controller):
    """aiosmtpd's controller bound to 127.0.0.1 port 0; ``port`` is the one it took."""

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        super().__init__(
            handler, hostname="127.0.0.1", port=0, ready_timeout=READY_SECONDS, **kwargs
        )

    def _trigger_server(self) -> None:
        # the server is listening by now: learn its port before the controller connects to it
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()
