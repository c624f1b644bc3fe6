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

from slimvision.core import cli  # pylint: disable=g-import-not-at-top,wrong-import-position
from slimvision.core import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position

# One flag per EvalConfig field (name, default and help are the field's), slim's
# defaults for the two paths, and slim's --master.
cli.define_flags(config_lib.EvalConfig, __name__,
                 exclude=('num_classes', 'max_number_of_steps', 'network_kwargs'),
                 defaults={'checkpoint_path': '/tmp/tfmodel/', 'eval_dir': '/tmp/tfmodel/'})
flags.DEFINE_string('master', '', 'Ignored (slim\'s TF1 session target).')
cli.define_checkpoint_sha256(__name__)


def main(argv):
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
  config = cli.config_from_flags(config_lib.EvalConfig, __name__,
                                 checkpoint_path=checkpoint_path,
                                 moving_average_decay=moving_average_decay)
  from slimvision.core import evaluate  # pylint: disable=g-import-not-at-top
  evaluate.run(config)


def run():
  """Console entry point (`slimvision-eval`)."""
  cli.run(main, __name__)


if __name__ == '__main__':
  run()
