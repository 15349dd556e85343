"""The web app (``hubaudit serve``): server-rendered pages over the services, for RevOps
(triage) and the council (review and approve).

An edge, like the CLI: routes, templates, sessions and HTTP status codes live here and nowhere
else; every read and every decision goes through ``hubaudit.services``. Nothing here is imported
by the rest of hubaudit, and ``serve`` imports it only when it runs, so the read commands never
load Starlette, uvicorn or argon2.

- :mod:`hubaudit.web.app` builds the ASGI app (:func:`create_app`).
- :mod:`hubaudit.web.auth` signs people in (password or trusted proxy), checks roles and CSRF.
- :mod:`hubaudit.web.pages` holds the pages and the actions.
- :mod:`hubaudit.web.server` runs it under uvicorn (in a thread for tests and the demo).
"""
