"""The foundations every layer stands on: the error users see, typed configs, atomic files, the CPU threads
honyaku runs with, and the metrics (BLEU, chrF). Imports nothing else of honyaku."""
