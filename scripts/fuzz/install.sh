#!/usr/bin/env bash
# Installs schemathesis (OpenAPI property-based fuzzing, tests/e2e/openapi-fuzz.e2e.ts)
# into a virtualenv of its own, with the versions pinned in requirements.txt, and
# prints the path of its executable. Debian's python3 is used on purpose: the
# CPython 3.11.7 of some images fails inside hypothesis ("AST constructor
# recursion depth mismatch"); Debian's is not affected.
#
#   SCHEMATHESIS="$(bash scripts/fuzz/install.sh)"
#
# Cached under ~/.cache/trace-schemathesis/<hash of requirements.txt>; progress on stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${FUZZ_PYTHON:-/usr/bin/python3}"
[ -x "$python" ] || python="$(command -v python3)"
key="$(sha256sum "$here/requirements.txt" | cut -c1-16)"
venv="${FUZZ_VENV:-$HOME/.cache/trace-schemathesis/$key}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "[fuzz] installing schemathesis into $venv" >&2
  rm -rf "$venv.tmp"
  "$python" -m venv "$venv.tmp" >&2
  "$venv.tmp/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt" >&2
  rm -rf "$venv" && mv "$venv.tmp" "$venv"
  # A virtualenv records its own path in its scripts: the move needs them rewritten.
  sed -i "s#$venv.tmp#$venv#g" "$venv"/bin/* 2>/dev/null || true
fi
"$venv/bin/schemathesis" --version >&2
echo "$venv/bin/schemathesis"
