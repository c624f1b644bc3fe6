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

# Where and what.
flags.DEFINE_string('train_dir', '/tmp/tfmodel/',
                    'Directory where checkpoints, summaries and config.json are written.')
flags.DEFINE_string('dataset_name', 'imagenet', 'The name of the dataset to load.')
flags.DEFINE_string('dataset_split_name', 'train', 'The name of the train/test split.')
flags.DEFINE_string('dataset_dir', None, 'The directory where the dataset files are stored.')
flags.DEFINE_integer('labels_offset', 0,
                     'An offset for the labels in the dataset. Set to 1 to train a model '
                     'without a background class on a dataset with one (e.g. vgg, resnet_v1 '
                     'on imagenet).')
flags.DEFINE_string('model_name', 'inception_v3', 'The name of the architecture to train.')
flags.DEFINE_string('preprocessing_name', None,
                    'The name of the preprocessing to use. If None, the model_name one.')
flags.DEFINE_integer('batch_size', 32, 'The number of samples in each batch, per replica.')
flags.DEFINE_integer('train_image_size', None, 'Train image size (default: the net\'s).')
flags.DEFINE_integer('max_number_of_steps', None, 'The maximum number of training steps.')
flags.DEFINE_boolean('use_grayscale', False,
                     'Whether to convert input images to grayscale.')
flags.DEFINE_boolean('skip_undecodable', False,
                     'Skip images that do not decode, each logged with its file and record '
                     'index and a running count, instead of stopping.')
# Devices.
flags.DEFINE_integer('num_clones', 1,
                     'Number of replicas on this machine: GPUs, or logical CPU devices on a '
                     'machine without GPUs (1: all visible GPUs).')
flags.DEFINE_boolean('clone_on_cpu', False, 'Use CPUs to deploy clones.')
# Logging and checkpoints.
flags.DEFINE_integer('log_every_n_steps', 10, 'The frequency with which logs are printed.')
flags.DEFINE_integer('save_summaries_secs', 600,
                     'The frequency with which summaries are saved, in seconds.')
flags.DEFINE_integer('save_interval_secs', 600,
                     'The frequency with which the model is saved, in seconds.')
flags.DEFINE_integer('max_checkpoints_to_keep', 5, 'Checkpoints kept in train_dir.')
# Regularisation and loss.
flags.DEFINE_float('weight_decay', 0.00004, 'The weight decay on the model weights.')
flags.DEFINE_float('label_smoothing', 0.0, 'The amount of label smoothing.')
flags.DEFINE_float('moving_average_decay', None,
                   'The decay to use for the moving average. If left as None, then moving '
                   'averages are not used.')
# Optimizer.
flags.DEFINE_enum('optimizer', 'rmsprop',
                  ['adadelta', 'adagrad', 'adam', 'adamw', 'ftrl', 'momentum', 'sgd',
                   'rmsprop'], 'The name of the optimizer.')
flags.DEFINE_float('adadelta_rho', 0.95, 'The decay rate for adadelta.')
flags.DEFINE_float('adagrad_initial_accumulator_value', 0.1,
                   'Starting value for the AdaGrad accumulators.')
flags.DEFINE_float('adam_beta1', 0.9, 'The exponential decay rate for the 1st moment estimates.')
flags.DEFINE_float('adam_beta2', 0.999,
                   'The exponential decay rate for the 2nd moment estimates.')
flags.DEFINE_float('opt_epsilon', 1.0, 'Epsilon term for the optimizer.')
flags.DEFINE_float('ftrl_learning_rate_power', -0.5, 'The learning rate power.')
flags.DEFINE_float('ftrl_initial_accumulator_value', 0.1,
                   'Starting value for the FTRL accumulators.')
flags.DEFINE_float('ftrl_l1', 0.0, 'The FTRL l1 regularization strength.')
flags.DEFINE_float('ftrl_l2', 0.0, 'The FTRL l2 regularization strength.')
flags.DEFINE_float('momentum', 0.9, 'The momentum for the MomentumOptimizer.')
flags.DEFINE_float('rmsprop_momentum', 0.9, 'Momentum.')
flags.DEFINE_float('rmsprop_decay', 0.9, 'Decay term for RMSProp.')
flags.DEFINE_float('adamw_weight_decay', 0.05,
                   'Decoupled weight decay of --optimizer=adamw (use with --weight_decay=0).')
# Learning rate.
flags.DEFINE_enum('learning_rate_decay_type', 'exponential',
                  ['exponential', 'fixed', 'polynomial', 'cosine'],
                  'How the learning rate is decayed; cosine decays to end_learning_rate '
                  'over max_number_of_steps.')
flags.DEFINE_float('learning_rate', 0.01, 'Initial learning rate.')
flags.DEFINE_float('end_learning_rate', 0.0001,
                   'The minimal end learning rate used by a polynomial or cosine decay.')
flags.DEFINE_float('learning_rate_decay_factor', 0.94, 'Learning rate decay factor.')
flags.DEFINE_float('num_epochs_per_decay', 2.0,
                   'Number of epochs after which learning rate decays.')
flags.DEFINE_float('warmup_epochs', 0.0,
                   'Epochs of linear learning-rate warmup from 0 before the schedule.')
# Fine-tuning.
flags.DEFINE_string('checkpoint_path', None,
                    'The path to a checkpoint from which to fine-tune (slim\'s released '
                    'checkpoints or ours; a prefix or a directory), or "pretrained": the '
                    'release of --model_name, downloaded and cached once.')
flags.DEFINE_string('checkpoint_exclude_scopes', None,
                    'Comma-separated list of scopes of variables to exclude when restoring '
                    'from a checkpoint.')
flags.DEFINE_string('trainable_scopes', None,
                    'Comma-separated list of scopes to filter the set of variables to train. '
                    'By default, None would train all the variables.')
flags.DEFINE_boolean('ignore_missing_vars', False,
                     'When restoring a checkpoint would ignore missing variables.')
# Beyond slim.
flags.DEFINE_enum('mixed_precision', None, ['bfloat16', 'float16'],
                  'Compute in bfloat16 or float16 (with loss scaling); variables stay float32.')
flags.DEFINE_boolean('jit_compile', False,
                     'Compile the forward and backward pass with XLA (slower on CPU).')
flags.DEFINE_integer('seed', None, 'Seed of the input shuffling.')
flags.DEFINE_integer('shuffle_buffer', None, 'Examples in the shuffle buffer (default: the '
                     'input pipeline\'s).')
flags.DEFINE_integer('steps_per_loop', 10,
                     'Training steps per call of the compiled step function: metrics reach '
                     'the host only at the end of each loop, which ends at every '
                     '--log_every_n_steps step. 1 fetches them after every step.')
flags.DEFINE_boolean('checkpoint_input_pipeline', True,
                     'Keep the input position in the checkpoints so that a resumed run '
                     'continues where it stopped (the shuffle buffer is saved with it).')


def config_from_flags():
  """The TrainConfig of the parsed command line."""
  from slimvision.core.config import TrainConfig  # pylint: disable=g-import-not-at-top
  import dataclasses  # pylint: disable=g-import-not-at-top
  return TrainConfig(**{f.name: FLAGS[f.name].value for f in dataclasses.fields(TrainConfig)
                        if f.name in FLAGS})


from slimvision.core import cli  # pylint: disable=g-import-not-at-top,wrong-import-position

cli.define_checkpoint_sha256(__name__)

def main(argv):
  from slimvision.core import cli  # pylint: disable=g-import-not-at-top
  cli.check_no_arguments(argv)
  with cli.usage_errors():
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
  from slimvision.core import cli  # pylint: disable=g-import-not-at-top
  cli.run(main, __name__)


if __name__ == '__main__':
  run()
