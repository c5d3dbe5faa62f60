"""schemathesis hooks for tests/e2e/openapi-fuzz.e2e.ts (SCHEMATHESIS_HOOKS=hooks
with scripts/fuzz on PYTHONPATH). The imports routes take spreadsheets:
schemathesis has no serializer for them, so a generated body is sent as the raw
bytes of a file (what a person uploading the wrong file would send)."""
import schemathesis

schemathesis.serializer.alias(
    ["text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
    "application/octet-stream",
)

# Hypothesis names each filter's lambda by parsing its source file with `ast`;
# CPython 3.11 (Debian's 3.11.2 and 3.11.7 alike) then sometimes raises
# "SystemError: AST constructor recursion depth mismatch" and the operation is
# reported as an error of the run. The name is only for display: fall back to
# a plain one instead.
from hypothesis.internal import lambda_sources  # noqa: E402

_describe = lambda_sources._lambda_description


def _describe_or_plain(f):
    try:
        return _describe(f)
    except SystemError:
        return "lambda: <source not parsed>"


lambda_sources._lambda_description = _describe_or_plain
