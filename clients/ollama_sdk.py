"""provcheck client adapter: the official Ollama Python client (`ollama`), /api/chat.

The client's defaults throughout (it has no retries and no timeout of its own). Only what the
scenario itself asks for is passed: the body and the request's timeout. See docs/CLIENTS.md.
"""

import json
import time

import httpx
import ollama

from provcheck_client import emit, error, reply, request, seconds, skip_unless

req = request()
skip_unless(req, "ollama", "ollama_sdk")
client = ollama.Client(timeout=seconds(req["timeout_ms"]))  # OLLAMA_HOST from the environment
body = req["body"]
started = time.monotonic()


def calls_of(message):
    return [
        {"id": getattr(c, "id", None), "name": c.function.name, "arguments": dict(c.function.arguments)}
        for c in message.tool_calls or []
    ]


def finish(done_reason, calls):
    if calls:
        return "tool_calls"
    return {"stop": "stop", "length": "length"}.get(done_reason, done_reason)


def plain():
    r = client.chat(**body)
    calls = calls_of(r.message)
    return reply(r.message.content or "", finish(r.done_reason, calls), calls,
                 r.prompt_eval_count, r.eval_count)


def streamed():
    text, calls, last = [], [], None
    for part in client.chat(**body):
        text.append(part.message.content or "")
        calls += calls_of(part.message)
        last = part
    if last is None or not last.done:
        # The stream ended without its `done: true` line: the client saw a cut stream.
        return error("connection", message="the stream ended before its done line")
    return reply("".join(text), finish(last.done_reason, calls), calls,
                 last.prompt_eval_count, last.eval_count)


try:
    emit(streamed() if body.get("stream") else plain(), started)
except ollama.ResponseError as e:
    # status -1: an `error` line inside a stream that began with 200.
    if e.status_code == -1:
        emit(error("stream", 200, None, e.error), started)
    emit(error("http", e.status_code, None, e.error), started)
except ConnectionError as e:
    emit(error("connection", message=e), started)
except httpx.TimeoutException as e:
    emit(error("timeout", message=repr(e)), started)
except (httpx.TransportError, json.JSONDecodeError) as e:
    emit(error("connection", message=repr(e)), started)
