"""Loaded by the schemathesis run (SCHEMATHESIS_HOOKS).

Python 3.11 before 3.11.8 can raise `SystemError: AST constructor recursion depth
mismatch` from `ast.parse` on a large source file; hypothesis parses the source of a
lambda only to name it in a repr, so the run would stop on a name. Name such a lambda
"<unknown>" instead, as hypothesis itself does when it cannot find the source.
"""

from hypothesis.internal import lambda_sources

_describe = lambda_sources._lambda_description


def _describe_safely(f, *args, **kwargs):
    try:
        return _describe(f, *args, **kwargs)
    except SystemError:
        return "lambda: <unknown>"


lambda_sources._lambda_description = _describe_safely
