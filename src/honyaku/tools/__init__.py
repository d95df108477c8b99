"""Model directories made from others: checkpoint averaging, ensembles, sequence-level distillation (a teacher's
translations as training data), and bundling a model with its card for the package."""
