"""slimvision: TF-Slim's image classification model library on TensorFlow 2 / Keras 3.

The networks (`slimvision.nets`), datasets (`slimvision.datasets`) and
preprocessing (`slimvision.preprocessing`) keep slim's names, checkpoint
variable names and defaults; `slimvision.core` holds the training, evaluation
and export engine behind the command-line scripts.

    import slimvision
    model = slimvision.create_model('inception_v3', num_classes=5, pretrained=True)

`create_model`, `ImageClassifier`, `ClassificationLoss` and `list_networks` are
imported on first use, so `import slimvision` alone loads no framework.
"""

import importlib

__version__ = '0.1.0'

_LAZY = {
    'create_model': 'nets.classifier',
    'ImageClassifier': 'nets.classifier',
    'ClassificationLoss': 'nets.losses',
    'list_networks': 'nets.nets_factory',
}


def __getattr__(name):
  if name in _LAZY:
    module = importlib.import_module(f'{__name__}.{_LAZY[name]}')
    # `nets` registers every family on import; the registry is empty without it.
    importlib.import_module(f'{__name__}.nets')
    return getattr(module, name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
  return sorted(list(globals()) + list(_LAZY))


__all__ = ['ClassificationLoss', 'ImageClassifier', 'create_model', 'list_networks']
