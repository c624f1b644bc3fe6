"""slimvision: TF-Slim's image classification model library on TensorFlow 2 / Keras 3.

The networks (`slimvision.nets`), datasets (`slimvision.datasets`) and
preprocessing (`slimvision.preprocessing`) keep slim's names, checkpoint
variable names and defaults; `slimvision.core` holds the training, evaluation
and export engine behind the command-line scripts.
"""

__version__ = '0.1.0'
