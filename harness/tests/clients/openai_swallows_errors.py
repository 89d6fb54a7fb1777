"""A deliberately broken client: an error from the OpenAI SDK is swallowed into an empty reply,
as an application that catches everything and returns "" would."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "clients"))

import openai  # noqa: E402
from provcheck_client import emit, reply, request  # noqa: E402

req = request()
started = time.monotonic()
try:
    r = openai.OpenAI().chat.completions.create(**req["body"])
    emit(reply(r.choices[0].message.content or "", r.choices[0].finish_reason), started)
except Exception:  # the bug under test
    emit(reply("", "stop"), started)
