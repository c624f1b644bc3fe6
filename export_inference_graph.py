r"""Exports a network as a SavedModel / TFLite / GraphDef (slim's export_inference_graph.py).

For example, slim's released Inception V3 as a SavedModel and a TFLite model:

    python export_inference_graph.py --model_name=inception_v3 \
        --checkpoint_path=inception_v3.ckpt --export_dir=/tmp/inception_v3 \
        --tflite_file=/tmp/inception_v3.tflite

The SavedModel's `serving_default` signature takes `images` (float32 NHWC,
already preprocessed) and `serving_bytes` takes `image_bytes` (encoded JPEG /
PNG, the net's eval preprocessing is applied); both return `logits`,
`probabilities` and `classes`. slim's `--output_file=F.pb` writes a GraphDef
(frozen with the checkpoint's values when --checkpoint_path is given);
`--quantize` makes the TFLite model dynamic-range quantized. The flags become a
`core.export.ExportConfig` and one call to `core.export.export`.
"""

if __name__ == '__main__' and not __package__:
  import _bootstrap  # pylint: disable=g-import-not-at-top
  _bootstrap.as_package()

from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

FLAGS = flags.FLAGS

from slimvision.core import cli  # pylint: disable=g-import-not-at-top,wrong-import-position
from slimvision.core import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position

# One flag per ExportConfig field (name, default and help are the field's), and
# slim's two flags that map onto the config otherwise.
cli.define_flags(config_lib.ExportConfig, __name__,
                 exclude=('use_moving_averages', 'network_kwargs'))
flags.DEFINE_float('moving_average_decay', None,
                   'If set, export the moving averages of the weights.')
flags.DEFINE_boolean('write_text_graphdef', False,
                     'Write --output_file as a text GraphDef whatever its extension.')
cli.define_checkpoint_sha256(__name__)


def main(argv):
  cli.check_no_arguments(argv)
  from slimvision.core import export  # pylint: disable=g-import-not-at-top
  output_file = FLAGS.output_file or None
  if output_file and FLAGS.write_text_graphdef and not output_file.endswith('.pbtxt'):
    output_file += 'txt' if output_file.endswith('.pb') else '.pbtxt'
  checkpoint_path, averages = cli.pretrained_checkpoint(FLAGS.checkpoint_path, FLAGS.model_name,
                                                         FLAGS.checkpoint_sha256)
  config = cli.config_from_flags(
      config_lib.ExportConfig, __name__, checkpoint_path=checkpoint_path,
      output_file=output_file, dataset_name=None if FLAGS.num_classes else FLAGS.dataset_name,
      dataset_dir=FLAGS.dataset_dir or None,
      use_moving_averages=FLAGS.moving_average_decay is not None or averages)
  cli.check_positive(batch_size=FLAGS.batch_size, num_classes=FLAGS.num_classes)
  cli.check_network(FLAGS.model_name, FLAGS.image_size, 'image_size',
                    is_training=FLAGS.is_training)
  if not FLAGS.num_classes:
    from slimvision.datasets import dataset_factory  # pylint: disable=g-import-not-at-top
    with cli.usage_errors():
      dataset_factory.get_dataset_module(FLAGS.dataset_name)
  cli.check_checkpoint(checkpoint_path, required=False)
  cli.check_directory('dataset_dir', FLAGS.dataset_dir or None, required=False,
                      what='a dataset directory holding labels.txt')
  written = export.export(config)
  for kind in ('saved_model', 'tflite', 'graph_def'):
    if kind in written:
      print(f'{kind}: {written[kind]}')
  if 'tensors' in written:
    print('graph tensors: ' + ', '.join(f'{k}={v}' for k, v in written['tensors'].items()))


def run():
  """Console entry point (`slimvision-export`)."""
  cli.run(main, __name__)


if __name__ == '__main__':
  run()
