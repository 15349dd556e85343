"""``hubaudit serve`` and ``hubaudit demo --serve`` as real processes: each says where it
listens once it does (the test waits for that line, never a fixed time), signs people in, and
stops on SIGINT. ``serve`` refuses to start without a secret key, and the read commands never
import the web app's dependencies."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .web_support import csrf_of

pytestmark = pytest.mark.slow


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hubaudit", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(process: subprocess.Popen[str], pattern: str) -> tuple[re.Match[str], list[str]]:
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        found = re.search(pattern, line)
        if found:
            return found, lines
    raise AssertionError("".join(lines) + (process.stderr.read() if process.stderr else ""))


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_the_demo_leaves_the_web_app_running_with_a_user_of_each_role(tmp_path: Path) -> None:
    process = start("demo", "--dir", str(tmp_path / "demo"), "--serve", "--port", "0", cwd=tmp_path)
    try:
        found, _ = wait_for(process, r"The web app: (http://127\.0\.0\.1:\d+)/")
        url = found.group(1)
        people = {}
        for _ in range(5):
            line = process.stdout.readline() if process.stdout else ""
            match = re.match(r"\s+(\w+)\s+(\w+)\s+(\S+)$", line)
            if match:
                people[match.group(2)] = (match.group(1), match.group(3))
        assert set(people) == {"revops", "council", "viewer", "admin"}
        name, password = people["council"]
        with httpx.Client(base_url=url) as client:
            token = csrf_of(client.get("/login").text)
            signed = client.post(
                "/login", data={"username": name, "password": password, "csrf": token}
            )
            assert signed.status_code == 303
            page = client.get("/portals/demo/defects")
            assert page.status_code == 200 and "Defects of demo" in page.text
    finally:
        stop(process)


def test_serve_needs_a_secret_key(tmp_path: Path) -> None:
    config = tmp_path / "hubaudit.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "h.db"}"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "hubaudit", "--config", str(config), "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "secret key" in done.stderr and "secret_key_env" in done.stderr


def test_serve_signs_people_in_on_the_configured_database(tmp_path: Path) -> None:
    import os

    config = tmp_path / "hubaudit.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "h.db"}"\n\n'
        '[web]\nsecret_key_env = "HUBAUDIT_SERVE_TEST_SECRET"\n',
        encoding="utf-8",
    )
    base = [sys.executable, "-m", "hubaudit", "--config", str(config)]
    subprocess.run([*base, "db", "upgrade"], check=True, capture_output=True, timeout=60)
    subprocess.run([*base, "users", "add", "carl", "--role", "council", "--password-stdin"],
                   input="correct horse battery\n", text=True, check=True, capture_output=True,
                   timeout=60)  # fmt: skip
    env = {**os.environ, "HUBAUDIT_SERVE_TEST_SECRET": "x" * 40}
    process = subprocess.Popen(
        [*base, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        found, _ = wait_for(process, r"web app on (http://127\.0\.0\.1:\d+)")
        with httpx.Client(base_url=found.group(1)) as client:
            token = csrf_of(client.get("/login").text)
            data = {"username": "carl", "password": "correct horse battery", "csrf": token}
            assert client.post("/login", data=data).status_code == 303
            assert "Portfolio" in client.get("/").text
    finally:
        stop(process)


def test_read_commands_do_not_import_the_web_app() -> None:
    probe = (
        "import sys; from hubaudit.cli import app; "
        "app.root.get_command(None, 'defects'); app.root.get_command(None, 'users'); "
        "app.root.get_command(None, 'serve'); "
        "print(sorted(m for m in ('starlette', 'uvicorn', 'argon2', 'itsdangerous', "
        "'multipart', 'hubaudit.web') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
