"""The engine behind the scripts: configuration, strategy, input, training, evaluation, export.

Core code takes config objects and never reads command-line flags.
"""
