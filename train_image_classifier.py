r"""Trains or fine-tunes a network (slim's train_image_classifier.py).

Same flags and defaults as slim, for example:

    python train_image_classifier.py --train_dir=/tmp/train --dataset_name=imagenet \
        --dataset_split_name=train --dataset_dir=/data/imagenet \
        --model_name=inception_resnet_v2

plus --warmup_epochs, --learning_rate_decay_type=cosine, --optimizer=adamw,
--mixed_precision and --jit_compile. --batch_size is per replica, as slim's
per-clone batch size. The flags become a `core.config.TrainConfig` and one
call to `core.train.train`.
"""

if __name__ == '__main__' and not __package__:
  import _bootstrap  # pylint: disable=g-import-not-at-top
  _bootstrap.as_package()

from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import logging  # pylint: disable=g-import-not-at-top,wrong-import-position

FLAGS = flags.FLAGS

from slimvision.core import cli  # pylint: disable=g-import-not-at-top,wrong-import-position
from slimvision.core import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position

# One flag per TrainConfig field: its name, default and help are the field's.
cli.define_flags(config_lib.TrainConfig, __name__)
cli.define_checkpoint_sha256(__name__)


def config_from_flags() -> config_lib.TrainConfig:
  """The TrainConfig of the parsed command line."""
  return cli.config_from_flags(config_lib.TrainConfig, __name__)


def main(argv):
  cli.check_no_arguments(argv)
  config = config_from_flags()
  # The devices must be fixed before anything runs TensorFlow (the checks build the net).
  from slimvision.core import strategy as strategy_lib  # pylint: disable=g-import-not-at-top
  strategy_lib.reserve_devices(config.num_clones, config.clone_on_cpu)
  cli.check_not_a_file('train_dir', config.train_dir)
  cli.check_network(config.model_name, config.train_image_size, 'train_image_size',
                    is_training=True)
  cli.check_dataset(config.dataset_name, config.dataset_split_name, config.dataset_dir)
  checkpoint_path, _ = cli.pretrained_checkpoint(config.checkpoint_path, config.model_name,
                                                 FLAGS.checkpoint_sha256)
  config = config.replace(checkpoint_path=checkpoint_path)
  cli.check_checkpoint(config.checkpoint_path, required=False)
  from slimvision.core import train  # pylint: disable=g-import-not-at-top
  strategy = strategy_lib.make_strategy(config.num_clones, config.clone_on_cpu)
  result = train.train(config, strategy=strategy)
  logging.info('Finished at step %d (%s); loss %.4f; checkpoint %s.', result.global_step,
               result.stopped_by, result.loss, result.checkpoint)


def run():
  """Console entry point (`slimvision-train`)."""
  cli.run(main, __name__)


if __name__ == '__main__':
  run()
