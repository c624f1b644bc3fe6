"""What the registry-wide tests share: the nets, their test sizes and one trainer step."""

import datasets_testlib
import synthetic
from slimvision.core import train
from slimvision.core.config import TrainConfig
from slimvision.nets import nets_factory

FLOWERS = datasets_testlib.dataset_dir('flowers')
FLOWERS_CLASSES = 5

NETS = synthetic.package_networks()


def family_representatives():
  """One net per family module: the smallest input, then the shortest name."""
  families = {}
  for name in NETS:
    spec = nets_factory.get_spec(name)
    families.setdefault(spec.builder.__module__, []).append(name)
  return sorted(min(names, key=lambda n: (nets_factory.get_spec(n).default_image_size,
                                          len(n), n))
                for names in families.values())


def training_size(name: str, is_training: bool = True) -> int:
  """A small size the training (or inference) build takes: its minimum, at
  least 32, at most the default."""
  spec = nets_factory.get_spec(name)
  smallest = nets_factory.minimum_image_size(name, is_training=is_training)
  return min(spec.default_image_size, max(32, smallest))


def train_one_step(name, train_dir, size, learning_rate=0.01, checkpoint_path=None):
  """One SGD step of `name` on flowers through `core.train.train` (batch 2)."""
  config = TrainConfig(
      train_dir=str(train_dir), dataset_name='flowers', dataset_split_name='train',
      dataset_dir=FLOWERS, model_name=name, train_image_size=size, batch_size=2,
      max_number_of_steps=1, optimizer='sgd', learning_rate=learning_rate,
      learning_rate_decay_type='fixed', log_every_n_steps=1, checkpoint_path=checkpoint_path)
  return train.train(config)
