"""What translating an answer reads of the client's request, and nothing more.

The answer is translated by a second ext_proc stream that never sees the request: the
decision hands it this view, which travels with every message of the answer, so it stays
small whatever the request held. Every translator's `response` and `stream` give the same
result for the view as for the whole request (tests/test_response_view.py).
"""

from __future__ import annotations

from typing import Any

from aiplane.translate.gemini_wire import include_thoughts
from aiplane.translate.openai_wire import stream_settings

JSON = dict[str, Any]


def response_view(request: JSON) -> JSON:
    """The client's request cut to what answers name or depend on: the model it asked for, an
    OpenAI client's usage chunk, a Gemini client's thoughts, an embeddings client's encoding and
    how many inputs it sent (their count, not their text)."""
    model, include_usage = stream_settings(request)
    view: JSON = {"model": model}
    if include_usage:
        view["stream_options"] = {"include_usage": True}
    if include_thoughts(request):
        view["generationConfig"] = {"thinkingConfig": {"includeThoughts": True}}
    encoding = request.get("encoding_format")
    if encoding is not None:
        view["encoding_format"] = encoding
    inputs = request.get("input")
    if isinstance(inputs, str):
        view["input"] = ""
    elif isinstance(inputs, list):
        view["input"] = [None] * len(inputs)
    return view
