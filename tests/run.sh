#!/usr/bin/env bash
# The test command, from nothing: a virtualenv in .venv, hubaudit with its test tools, the gates
# (ruff check, ruff format --check, mypy --strict src) and the whole suite. Database tests run on
# SQLite and on the local PostgreSQL (127.0.0.1:5432, database test; HUBAUDIT_TEST_POSTGRES_URL
# overrides it). Without Postgres they skip, unless CI=true, where they fail. The contract test
# needs Stoplight Prism (npm ci in tests/contract) and ../shared/hubspot: same rule.
# The suite runs on every core (pytest-xdist, `-n auto`); tests that share one expensive fixture
# (the contract test's Prism) carry an xdist_group and stay on one worker (`--dist loadgroup`).
# PYTEST_WORKERS=0 runs it serially. Extra arguments go to pytest, after these: `-m "not slow"`
# skips the long scenarios, `-n 1` overrides the worker count.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
# Stoplight Prism for the contract test (tests/contract/package-lock.json), if npm is here and
# it is not installed yet; without it the contract test skips, except with CI=true.
if [ ! -x tests/contract/node_modules/.bin/prism ] && command -v npm >/dev/null; then
  npm ci --prefix tests/contract --no-audit --no-fund --loglevel=error
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy --strict src
.venv/bin/pytest -n "${PYTEST_WORKERS:-auto}" --dist loadgroup "$@"
