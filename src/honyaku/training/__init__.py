"""Making a model from a config: the corpus prepared once into a store of encoded pairs (``preparation``), the
training loop with its schedule, evaluations and early stopping (``trainer``), checkpoints that resume a run
exactly (``checkpoint``), and training on several processes or machines (``distributed``). Needs PyTorch (the
``train`` extra)."""
