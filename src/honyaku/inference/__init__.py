"""Translating with a trained model: the search engines (PyTorch's over the model interface, CTranslate2's over a
model's conversion) and what they share, the ``Translator`` that loads a model directory and turns text into
text, ``pipeline``, the bundled models and the routing of each text to the model of its language, transformers
models as translators and the exports to transformers and CTranslate2, attention maps. Without PyTorch where
CTranslate2 searches: the light install is this package with ``data`` and ``core``."""
