"""Text to token ids: corpora and their files, text processors (tokenize/detokenize), casing, subword models,
vocabularies, and the encoded training pairs and their batches. Imports only honyaku.core."""
