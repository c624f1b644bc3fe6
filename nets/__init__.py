"""slim's image classification networks as Keras 3 functional models.

Every family module is imported here explicitly, which registers its networks
in `nets_factory`.
"""

from . import layers
from . import nets_factory
from . import checkpoints
from . import inception_v3
from . import inception_resnet_v2
from . import inception_v4
from . import inception_v1
from . import inception_v2
from . import vgg
from . import alexnet
from . import overfeat
from . import lenet
from . import cifarnet
from . import resnet_v1
from . import resnet_v2
from . import mobilenet_v1
from . import mobilenet_v2
from . import mobilenet_v3
from . import nasnet_utils
from . import nasnet
from . import pnasnet
from . import losses
from . import classifier

__all__ = [
    'layers',
    'nets_factory',
    'checkpoints',
    'inception_v3',
    'inception_resnet_v2',
    'inception_v4',
    'inception_v1',
    'inception_v2',
    'vgg',
    'alexnet',
    'overfeat',
    'lenet',
    'cifarnet',
    'resnet_v1',
    'resnet_v2',
    'mobilenet_v1',
    'mobilenet_v2',
    'mobilenet_v3',
    'nasnet_utils',
    'nasnet',
    'pnasnet',
    'losses',
    'classifier',
]
