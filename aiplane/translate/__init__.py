"""Translation between API dialects: one translator per (client dialect, provider dialect) pair.

Every translator is a pure function of parsed bodies and stream bytes; the decision server
applies them, and `aiplane.dialects` declares which pairs exist.
"""

from aiplane.translate.base import EmbeddingTranslator, StreamTranslator, Translator, UnsupportedFeature, Usage

__all__ = ["EmbeddingTranslator", "StreamTranslator", "Translator", "UnsupportedFeature", "Usage"]
