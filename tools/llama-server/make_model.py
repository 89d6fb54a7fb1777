#!/usr/bin/env python3
"""Writes a tiny random-weight llama-architecture GGUF that llama.cpp's llama-server loads.

    make_model.py OUT.gguf

Nothing is downloaded: the weights come from numpy with a fixed seed, so the same gguf and numpy
versions write the same file byte for byte. The model knows nothing; it exists so that a real
llama-server has something to serve while provcheck judges the wire, not the words.

Choices that keep its replies usable by a conformance harness:
- A byte-level GPT-2 style BPE vocabulary (all 256 bytes, so any input tokenizes) plus a few
  merges and the ChatML control tokens. EOS is `<|im_end|>`.
- The output layer never picks a byte outside printable ASCII (or a control token other than
  EOS): one residual dimension is held high by every embedding, and the output rows of those
  tokens weigh it strongly negative. Replies are therefore always valid UTF-8 text.
- The same dimension gives EOS a steady bonus, so an unconstrained reply usually ends on its own
  after some tens of tokens (finish `stop`) and a small `max_tokens` cuts it (finish `length`).
- `<tool_call>` is a token of its own with a smaller bonus of the same kind, so replies offered
  tools often open a call.
- A Qwen2.5-style ChatML template with `<tools>` / `<tool_call>`, which llama-server's `--jinja`
  template analysis recognises, so tool definitions are rendered and `tool_choice: required`
  grammar-constrains the reply into a well-formed tool call.
"""

import sys

import numpy as np
from gguf import GGUFWriter, TokenType

SEED = 20261202
N_EMBD = 64
N_HEAD = 4
N_LAYER = 2
N_FF = 128
CONTEXT = 4096
# The residual dimension every embedding holds high (see the module doc).
BIAS_DIM = 0
# How strongly EOS is favoured: with this, a free reply has a few percent chance to end at each
# token (some tens of tokens on average). Larger means shorter replies.
EOS_WEIGHT = 1.2
# How strongly `<tool_call>` is favoured: enough that a reply offered tools often opens a call
# (llama-server then grammar-constrains the rest into a valid one).
TOOL_CALL_WEIGHT = 1.6
# How strongly the characters that close a JSON string or object are favoured: grammar-constrained
# replies (JSON schema, tool arguments) then finish well within the suites' max_tokens.
JSON_CLOSE_WEIGHT = 0.8
# The scale of the attention and feed-forward weights.
LAYER_SCALE = 0.15

CHAT_TEMPLATE = """{%- if tools %}
{{- '<|im_start|>system\\n' }}
{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}{%- else %}{{- 'You are a helpful assistant.' }}{%- endif %}
{{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
{%- for tool in tools %}{{- "\\n" }}{{- tool | tojson }}{%- endfor %}
{{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- else %}
{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}{%- endif %}
{%- endif %}
{%- for message in messages %}
{%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
{%- elif message.role == "assistant" %}
{{- '<|im_start|>' + message.role }}
{%- if message.content %}{{- '\\n' + message.content }}{%- endif %}
{%- for tool_call in message.tool_calls %}
{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}
{{- '\\n<tool_call>\\n{"name": "' }}{{- tool_call.name }}{{- '", "arguments": ' }}{{- tool_call.arguments | tojson }}{{- '}\\n</tool_call>' }}
{%- endfor %}
{{- '<|im_end|>\\n' }}
{%- elif message.role == "tool" %}
{%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}{{- '<|im_start|>user' }}{%- endif %}
{{- '\\n<tool_response>\\n' }}{{- message.content }}{{- '\\n</tool_response>' }}
{%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}{{- '<|im_end|>\\n' }}{%- endif %}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}
"""


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map, as llama.cpp's BPE vocab expects."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


def vocabulary() -> tuple[list[str], list[int], list[str], set[int]]:
    """Tokens, their types, the merges, and the ids a reply may contain (besides EOS)."""
    byte_char = bytes_to_unicode()
    tokens = [byte_char[b] for b in range(256)]
    types = [TokenType.NORMAL] * 256
    sayable = {b for b in range(256) if 32 <= b < 127 or b == 10}
    pairs = ["Ġ t", "h e", "i n", "e r", "a n", "o n", "Ġ a", "r e", "Ġt he", "o u", "e n", "Ġ s"]
    merges = []
    for pair in pairs:
        left, right = pair.split(" ")
        merges.append(pair)
        sayable.add(len(tokens))
        tokens.append(left + right)
        types.append(TokenType.NORMAL)
    # The tool-call markers are plain text in the template, but one token each (as in Qwen's
    # vocabulary), so that a random reply sometimes opens a tool call.
    for marker in ["<tool_call>", "</tool_call>"]:
        sayable.add(len(tokens))
        tokens.append(marker)
        types.append(TokenType.USER_DEFINED)
    for special in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]:
        tokens.append(special)
        types.append(TokenType.CONTROL)
    return tokens, types, merges, sayable


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: make_model.py OUT.gguf")
    tokens, types, merges, sayable = vocabulary()
    n_vocab = len(tokens)
    eot, eos = tokens.index("<|endoftext|>"), tokens.index("<|im_end|>")
    rng = np.random.default_rng(SEED)

    def weights(*shape: int, scale: float) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    writer = GGUFWriter(sys.argv[1], "llama")
    writer.add_name("provcheck-tiny-random")
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(0)  # all F32

    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(eot)
    writer.add_eos_token_id(eos)
    writer.add_eot_token_id(eos)
    writer.add_pad_token_id(eot)
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)

    embed = weights(n_vocab, N_EMBD, scale=1.0)
    embed[:, BIAS_DIM] = 4.0
    output = weights(n_vocab, N_EMBD, scale=0.25)
    output[:, BIAS_DIM] = [0.0 if t in sayable else -6.0 for t in range(n_vocab)]
    output[eos, BIAS_DIM] = EOS_WEIGHT
    output[tokens.index("<tool_call>"), BIAS_DIM] = TOOL_CALL_WEIGHT
    for closer in '"}':
        output[ord(closer), BIAS_DIM] = JSON_CLOSE_WEIGHT
    for layer in range(N_LAYER):
        blk = f"blk.{layer}"
        writer.add_tensor(f"{blk}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        # Layers large enough that the reply depends on the prompt (so different requests get
        # replies of different lengths), but never writing the held-high dimension.
        for name in ("attn_q", "attn_k", "attn_v"):
            writer.add_tensor(f"{blk}.{name}.weight", weights(N_EMBD, N_EMBD, scale=LAYER_SCALE))
        attn_output = weights(N_EMBD, N_EMBD, scale=LAYER_SCALE)
        attn_output[BIAS_DIM, :] = 0.0
        writer.add_tensor(f"{blk}.attn_output.weight", attn_output)
        writer.add_tensor(f"{blk}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"{blk}.ffn_gate.weight", weights(N_FF, N_EMBD, scale=LAYER_SCALE))
        writer.add_tensor(f"{blk}.ffn_up.weight", weights(N_FF, N_EMBD, scale=LAYER_SCALE))
        ffn_down = weights(N_EMBD, N_FF, scale=LAYER_SCALE)
        ffn_down[BIAS_DIM, :] = 0.0
        writer.add_tensor(f"{blk}.ffn_down.weight", ffn_down)
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    # llama-server opens a tool call on "<tool_call>\n": point the marker's embedding at the
    # newline's output row, so that a newline nearly always follows it.
    tool_call, newline = tokens.index("<tool_call>"), 10
    direction = output[newline].copy()
    direction[BIAS_DIM] = 0.0
    embed[tool_call] = direction / np.linalg.norm(direction) * np.sqrt(N_EMBD) * 1.5
    embed[tool_call, BIAS_DIM] = 4.0
    writer.add_tensor("token_embd.weight", embed)
    writer.add_tensor("output.weight", output)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
