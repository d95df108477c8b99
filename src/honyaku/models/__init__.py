"""The networks: shared layers, attention, the LSTM encoder-decoders, the Transformer, and ``build_model``.
Each offers the interface that search and training use (``honyaku.models.factory``). Imports honyaku.core and
honyaku.data."""
