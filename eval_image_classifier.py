r"""Evaluates a checkpoint: top-1 / top-5 on a dataset split (slim's eval_image_classifier.py).

Same flags and defaults as slim, for example (slim's released Inception V3):

    python eval_image_classifier.py --checkpoint_path=inception_v3.ckpt \
        --eval_dir=/tmp/eval --dataset_name=imagenet --dataset_split_name=validation \
        --dataset_dir=/data/imagenet --model_name=inception_v3

Every example of the split counts exactly once, whatever --batch_size and
--num_clones. Results go to <eval_dir>/results.json, TensorBoard summaries
(eval/Accuracy, eval/Recall_5) and stdout. With --eval_interval_secs the
script watches --checkpoint_path (a train_dir) and evaluates each new
checkpoint until the last training step, or until no new checkpoint came for
--eval_timeout_secs. The flags become a `core.evaluate.EvalConfig` and one call
to `core.evaluate.run`.
"""

if __name__ == '__main__' and not __package__:
  import _bootstrap  # pylint: disable=g-import-not-at-top
  _bootstrap.as_package()

from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import logging  # pylint: disable=g-import-not-at-top,wrong-import-position

FLAGS = flags.FLAGS

flags.DEFINE_integer('batch_size', 100, 'The number of samples in each batch (all replicas).')
flags.DEFINE_integer('max_num_batches', None,
                     'Max number of batches to evaluate; by default, all of the split.')
flags.DEFINE_string('master', '', 'Ignored (slim\'s TF1 session target).')
flags.DEFINE_string('checkpoint_path', '/tmp/tfmodel/',
                    'The checkpoint prefix, or a directory: its latest checkpoint (with '
                    '--eval_interval_secs, the train_dir to watch), or "pretrained": the '
                    'release of --model_name (its moving averages where it holds them).')
flags.DEFINE_string('eval_dir', '/tmp/tfmodel/',
                    'Directory where results.json and the summaries are written.')
flags.DEFINE_integer('num_preprocessing_threads', 4,
                     'The number of threads used to create the batches.')
flags.DEFINE_string('dataset_name', 'imagenet', 'The name of the dataset to load.')
flags.DEFINE_string('dataset_split_name', 'test', 'The name of the train/test split.')
flags.DEFINE_string('dataset_dir', None, 'The directory where the dataset files are stored.')
flags.DEFINE_integer('labels_offset', 0,
                     'An offset for the labels in the dataset. Set to 1 to evaluate a model '
                     'without a background class (vgg, resnet_v1) on imagenet, -1 for a '
                     '1001-class model on 1000-label data.')
flags.DEFINE_string('model_name', 'inception_v3', 'The name of the architecture to evaluate.')
flags.DEFINE_string('preprocessing_name', None,
                    'The name of the preprocessing to use. If None, the model_name one.')
flags.DEFINE_float('moving_average_decay', None,
                   'The decay to use for the moving average. If set, the moving averages of '
                   'the weights are evaluated.')
flags.DEFINE_integer('eval_image_size', None, 'Eval image size (default: the net\'s).')
flags.DEFINE_float('eval_interval_secs', None,
                   'If set, watch --checkpoint_path and evaluate each new checkpoint, '
                   'looking at most this often.')
flags.DEFINE_float('eval_timeout_secs', None,
                   'With --eval_interval_secs: stop when no new checkpoint came for this '
                   'long (default: wait until the last training step).')
flags.DEFINE_boolean('skip_undecodable', False,
                     'Skip (and log, with a count) images that do not decode instead of '
                     'failing; num_examples then counts the others.')
flags.DEFINE_boolean('use_grayscale', False,
                     'Evaluate a net trained with --use_grayscale (one-channel input).')
flags.DEFINE_integer('num_clones', 1,
                     'Replicas to evaluate on: GPUs, or logical CPU devices on a machine '
                     'without GPUs.')

from slimvision.core import cli  # pylint: disable=g-import-not-at-top,wrong-import-position

cli.define_checkpoint_sha256(__name__)

def main(argv):
  from slimvision.core import cli  # pylint: disable=g-import-not-at-top
  cli.check_no_arguments(argv)
  if FLAGS.master:
    logging.warning('--master=%s is ignored (TF1 only).', FLAGS.master)
  cli.check_positive(batch_size=FLAGS.batch_size, max_num_batches=FLAGS.max_num_batches,
                     num_clones=FLAGS.num_clones, eval_interval_secs=FLAGS.eval_interval_secs,
                     eval_timeout_secs=FLAGS.eval_timeout_secs)
  # The devices must be fixed before anything runs TensorFlow (the checks build the net).
  from slimvision.core import strategy as strategy_lib  # pylint: disable=g-import-not-at-top
  strategy_lib.reserve_devices(FLAGS.num_clones, multi_worker=False)
  cli.check_network(FLAGS.model_name, FLAGS.eval_image_size, 'eval_image_size')
  cli.check_dataset(FLAGS.dataset_name, FLAGS.dataset_split_name, FLAGS.dataset_dir)
  checkpoint_path, averages = cli.pretrained_checkpoint(FLAGS.checkpoint_path, FLAGS.model_name,
                                                         FLAGS.checkpoint_sha256)
  moving_average_decay = FLAGS.moving_average_decay
  if averages and moving_average_decay is None:
    moving_average_decay = 0.9999  # Only whether to use them matters when evaluating.
  if FLAGS.eval_interval_secs is None:  # Continuous mode may wait for the first checkpoint.
    cli.check_checkpoint(checkpoint_path)
  from slimvision.core import evaluate  # pylint: disable=g-import-not-at-top
  with cli.usage_errors():
    config = evaluate.EvalConfig(
        checkpoint_path=checkpoint_path, eval_dir=FLAGS.eval_dir,
        model_name=FLAGS.model_name, dataset_name=FLAGS.dataset_name,
        dataset_split_name=FLAGS.dataset_split_name, dataset_dir=FLAGS.dataset_dir,
        preprocessing_name=FLAGS.preprocessing_name, eval_image_size=FLAGS.eval_image_size,
        batch_size=FLAGS.batch_size, max_num_batches=FLAGS.max_num_batches,
        moving_average_decay=moving_average_decay, labels_offset=FLAGS.labels_offset,
        num_preprocessing_threads=FLAGS.num_preprocessing_threads,
        eval_interval_secs=FLAGS.eval_interval_secs,
        eval_timeout_secs=FLAGS.eval_timeout_secs, num_clones=FLAGS.num_clones,
        skip_undecodable=FLAGS.skip_undecodable, use_grayscale=FLAGS.use_grayscale)
  evaluate.run(config)


def run():
  """Console entry point (`slimvision-eval`)."""
  from slimvision.core import cli  # pylint: disable=g-import-not-at-top
  cli.run(main, __name__)


if __name__ == '__main__':
  run()
