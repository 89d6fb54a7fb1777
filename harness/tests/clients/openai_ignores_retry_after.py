"""A deliberately broken client: the OpenAI SDK with its Retry-After parsing patched out, so it
waits its own backoff instead of what the server asked for."""

from openai._base_client import BaseClient

from _run_adapter import run

BaseClient._parse_retry_after_header = lambda self, headers=None: None
run("openai_sdk.py")
