"""provcheck client adapter: the official Anthropic Python SDK (`anthropic`), messages.

The SDK's defaults throughout: its retries, backoff and Retry-After handling are what is
judged. Only what the scenario itself asks for is passed: the body, the request's timeout and,
where the scenario sets it, max_retries. See docs/CLIENTS.md.
"""

import time

import anthropic
import httpx2

from provcheck_client import emit, error, reply, request, seconds, skip_unless, split_body

req = request()
skip_unless(req, "anthropic", "anthropic_sdk")
options = {}
if req["max_retries"] is not None:
    options["max_retries"] = req["max_retries"]
if req["timeout_ms"] is not None:
    options["timeout"] = seconds(req["timeout_ms"])
client = anthropic.Anthropic(**options)  # ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY from the environment
body = req["body"]
kwargs = split_body(client.messages.create, body)
started = time.monotonic()

STOP = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
        "tool_use": "tool_calls", "refusal": "refusal"}


def plain():
    m = client.messages.create(**kwargs)
    text = "".join(b.text for b in m.content if b.type == "text")
    calls = [{"id": b.id, "name": b.name, "arguments": b.input} for b in m.content if b.type == "tool_use"]
    return reply(text, STOP.get(m.stop_reason, m.stop_reason), calls,
                 m.usage.input_tokens, m.usage.output_tokens)


def streamed():
    text, stop, blocks, usage_in, usage_out = [], None, {}, None, None
    for ev in client.messages.create(**kwargs):
        if ev.type == "message_start":
            usage_in = ev.message.usage.input_tokens
        elif ev.type == "content_block_start" and ev.content_block.type == "tool_use":
            blocks[ev.index] = {"id": ev.content_block.id, "name": ev.content_block.name, "arguments": ""}
        elif ev.type == "content_block_delta" and ev.delta.type == "text_delta":
            text.append(ev.delta.text)
        elif ev.type == "content_block_delta" and ev.delta.type == "input_json_delta":
            blocks[ev.index]["arguments"] += ev.delta.partial_json
        elif ev.type == "message_delta":
            stop = ev.delta.stop_reason or stop
            usage_out = ev.usage.output_tokens
    calls = [dict(b, arguments=b["arguments"] or "{}") for _, b in sorted(blocks.items())]
    return reply("".join(text), STOP.get(stop, stop), calls, usage_in, usage_out)


def error_type(e):
    body = e.body if isinstance(e.body, dict) else {}
    inner = body.get("error") if isinstance(body.get("error"), dict) else {}
    return inner.get("type")


try:
    emit(streamed() if body.get("stream") else plain(), started)
except anthropic.APIStatusError as e:
    # An `error` event inside a stream is raised with the stream's own status, 200.
    kind = "stream" if 200 <= e.status_code < 300 else "http"
    emit(error(kind, e.status_code, error_type(e), e.message), started)
except anthropic.APITimeoutError as e:
    emit(error("timeout", message=e), started)
except anthropic.APIConnectionError as e:
    emit(error("connection", message=e), started)
except httpx2.TimeoutException as e:
    # Raised while a stream is read: the SDK does not wrap it.
    emit(error("timeout", message=repr(e)), started)
except httpx2.TransportError as e:
    emit(error("connection", message=repr(e)), started)
