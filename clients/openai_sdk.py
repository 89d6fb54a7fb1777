"""provcheck client adapter: the official OpenAI Python SDK (`openai`), chat completions.

The SDK's defaults throughout: its retries, backoff and Retry-After handling are what is
judged. Only what the scenario itself asks for is passed: the body, the request's timeout and,
where the scenario sets it, max_retries. See docs/CLIENTS.md.
"""

import time

import httpx2
import openai

from provcheck_client import emit, error, reply, request, seconds, skip_unless, split_body

req = request()
skip_unless(req, "openai", "openai_sdk")
options = {}
if req["max_retries"] is not None:
    options["max_retries"] = req["max_retries"]
if req["timeout_ms"] is not None:
    options["timeout"] = seconds(req["timeout_ms"])
client = openai.OpenAI(**options)  # OPENAI_BASE_URL and OPENAI_API_KEY from the environment
body = req["body"]
kwargs = split_body(client.chat.completions.create, body)
started = time.monotonic()


def neutral(finish, calls):
    # A forced tool choice ends with `stop` though the reply called tools: it stopped to call them.
    return "tool_calls" if calls and finish == "stop" else finish


def plain():
    r = client.chat.completions.create(**kwargs)
    choice = r.choices[0]
    calls = [
        {"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
        for c in choice.message.tool_calls or []
    ]
    u = r.usage
    return reply(
        choice.message.content or "",
        neutral(choice.finish_reason, calls),
        calls,
        u and u.prompt_tokens,
        u and u.completion_tokens,
    )


def streamed():
    text, finish, calls, usage = [], None, {}, None
    for chunk in client.chat.completions.create(**kwargs):
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            text.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
            for d in choice.delta.tool_calls or []:
                c = calls.setdefault(d.index, {"id": None, "name": "", "arguments": ""})
                c["id"] = d.id or c["id"]
                if d.function:
                    c["name"] += d.function.name or ""
                    c["arguments"] += d.function.arguments or ""
    calls = [calls[i] for i in sorted(calls)]
    return reply(
        "".join(text),
        neutral(finish, calls),
        calls,
        usage and usage.prompt_tokens,
        usage and usage.completion_tokens,
    )


try:
    emit(streamed() if body.get("stream") else plain(), started)
except openai.APIStatusError as e:
    emit(error("http", e.status_code, getattr(e, "type", None), e.message), started)
except openai.APITimeoutError as e:
    emit(error("timeout", message=e), started)
except openai.APIConnectionError as e:
    emit(error("connection", message=e), started)
except openai.APIError as e:
    # An error event inside a stream that began with 200.
    emit(error("stream", 200, getattr(e, "type", None), e.message), started)
except httpx2.TimeoutException as e:
    # Raised while a stream is read: the SDK does not wrap it.
    emit(error("timeout", message=repr(e)), started)
except httpx2.TransportError as e:
    emit(error("connection", message=repr(e)), started)
