"""The client side of provcheck's client protocol (docs/CLIENTS.md), shared by the adapters.

provcheck runs an adapter once per trial with PROVCHECK_REQUEST naming a JSON file (the
neutral request, the dialect-encoded `body`, `timeout_ms`, `max_retries`) and the provider's
usual variables (OPENAI_BASE_URL, ANTHROPIC_BASE_URL, OLLAMA_HOST, dummy keys) aimed at the
trial's mock. The adapter makes the call with its SDK and prints one JSON object: a `reply`,
an `error`, or a `skip`.
"""

import json
import os
import sys
import time


def request():
    """The trial's request file, read."""
    with open(os.environ["PROVCHECK_REQUEST"], encoding="utf-8") as f:
        return json.load(f)


def emit(report, started):
    """Prints the report with the call's elapsed time, and exits."""
    report["elapsed_ms"] = int((time.monotonic() - started) * 1000)
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()
    sys.exit(0)


def reply(text, finish_reason, tool_calls=(), input_tokens=None, output_tokens=None):
    """A `reply` report."""
    usage = None
    if input_tokens is not None or output_tokens is not None:
        usage = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    return {
        "reply": {
            "text": text,
            "finish_reason": finish_reason,
            "tool_calls": list(tool_calls),
            "usage": usage,
        }
    }


def error(kind, status=None, type_=None, message=""):
    """An `error` report: kind is http, timeout, connection, stream or circuit_open."""
    return {"error": {"kind": kind, "status": status, "type": type_, "message": str(message)}}


def skip_unless(req, dialect, name):
    """Prints a `skip` and exits when the trial's target speaks another dialect."""
    if req["dialect"] != dialect:
        sys.stdout.write(json.dumps({"skip": f"{name} speaks {dialect}, not {req['dialect']}"}) + "\n")
        sys.exit(0)


def split_body(create, body):
    """The body as `create`'s keyword arguments, with the fields this SDK version has no
    parameter for sent as they are through `extra_body`, so every field reaches the server."""
    import inspect

    known = inspect.signature(create).parameters
    kwargs = {k: v for k, v in body.items() if k in known}
    extra = {k: v for k, v in body.items() if k not in known}
    if extra:
        kwargs["extra_body"] = extra
    return kwargs


def seconds(ms):
    """Milliseconds from the request file as SDK seconds (None stays None)."""
    return None if ms is None else ms / 1000.0
