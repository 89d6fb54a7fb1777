"""A deliberately broken client: the OpenAI SDK with retries turned off (max_retries=0)."""

import openai

from _run_adapter import run


class NoRetries(openai.OpenAI):
    def __init__(self, **options):
        options["max_retries"] = 0
        super().__init__(**options)


openai.OpenAI = NoRetries
run("openai_sdk.py")
