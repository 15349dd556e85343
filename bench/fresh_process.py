"""A benchmark's script run again in a fresh process, optionally with another checkout's code:
its peak RSS is then its own, and ``--compare-src`` baselines run in the same benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def last_json_line(argv: Sequence[str], src: str | Path | None = None) -> dict[str, Any]:
    """Run ``python argv…`` (importing hubaudit from ``src`` first, if given) and return the
    JSON object of the last line it prints."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    out = subprocess.run(
        [sys.executable, *argv], check=True, capture_output=True, text=True, env=env
    ).stdout
    answer: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return answer
