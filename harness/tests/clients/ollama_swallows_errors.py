"""A deliberately broken client: an error from the Ollama client is swallowed into an empty
reply, as an application that catches everything and returns "" would. The Ollama client
retries nothing, so the scenarios expect its error surfaced at once; this one must fail them."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "clients"))

import ollama  # noqa: E402
from provcheck_client import emit, reply, request  # noqa: E402

req = request()
started = time.monotonic()
try:
    r = ollama.Client().chat(**req["body"])
    emit(reply(r.message.content or "", "stop"), started)
except Exception:  # the bug under test
    emit(reply("", "stop"), started)
