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

flags.DEFINE_string('model_name', 'inception_v3', 'The name of the architecture to save.')
flags.DEFINE_boolean('is_training', False,
                     'Whether to save out a training-focused version of the model.')
flags.DEFINE_integer('image_size', None,
                     'The image size to use, otherwise use the model default_image_size.')
flags.DEFINE_integer('batch_size', None,
                     'Batch size for the exported model. Defaulted to "None" so batch size '
                     'can be specified at model runtime.')
flags.DEFINE_string('dataset_name', 'imagenet',
                    'The name of the dataset whose number of classes sizes the logits.')
flags.DEFINE_string('dataset_dir', '',
                    'A dataset directory whose labels.txt names the classes; the names are '
                    'kept in the SavedModel (assets/labels.txt) for classify_image.py.')
flags.DEFINE_integer('num_classes', None,
                     'Number of classes, instead of --dataset_name\'s (1001 for ImageNet '
                     'with background).')
flags.DEFINE_integer('labels_offset', 0,
                     'An offset for the labels in the dataset. Set to 1 for a model without '
                     'a background class (vgg, resnet_v1) on imagenet.')
flags.DEFINE_string('output_file', '',
                    'Where to save the GraphDef (.pb binary, .pbtxt text); frozen with the '
                    'checkpoint\'s values when --checkpoint_path is given.')
flags.DEFINE_boolean('write_text_graphdef', False,
                     'Write --output_file as a text GraphDef whatever its extension.')
flags.DEFINE_string('checkpoint_path', None,
                    'The checkpoint (prefix or directory, slim\'s or ours) to export, or '
                    '"pretrained": the release of --model_name.')
flags.DEFINE_float('moving_average_decay', None,
                   'If set, export the moving averages of the weights.')
flags.DEFINE_boolean('use_grayscale', False,
                     'Export a net trained with --use_grayscale (one-channel input).')
flags.DEFINE_string('export_dir', None, 'Where to write the SavedModel.')
flags.DEFINE_string('tflite_file', None, 'Where to write a TFLite model.')
flags.DEFINE_boolean('quantize', False,
                     'Dynamic-range quantize the TFLite model (int8 weights).')

from slimvision.core import cli  # pylint: disable=g-import-not-at-top,wrong-import-position

cli.define_checkpoint_sha256(__name__)

def main(argv):
  from slimvision.core import cli  # pylint: disable=g-import-not-at-top
  cli.check_no_arguments(argv)
  from slimvision.core import export  # pylint: disable=g-import-not-at-top
  output_file = FLAGS.output_file or None
  if output_file and FLAGS.write_text_graphdef and not output_file.endswith('.pbtxt'):
    output_file += 'txt' if output_file.endswith('.pb') else '.pbtxt'
  checkpoint_path, averages = cli.pretrained_checkpoint(FLAGS.checkpoint_path, FLAGS.model_name,
                                                         FLAGS.checkpoint_sha256)
  with cli.usage_errors():
    config = export.ExportConfig(
        model_name=FLAGS.model_name, checkpoint_path=checkpoint_path,
        export_dir=FLAGS.export_dir, output_file=output_file, tflite_file=FLAGS.tflite_file,
        quantize=FLAGS.quantize, image_size=FLAGS.image_size, batch_size=FLAGS.batch_size,
        is_training=FLAGS.is_training,
        dataset_name=None if FLAGS.num_classes else FLAGS.dataset_name,
        dataset_dir=FLAGS.dataset_dir or None,
        num_classes=FLAGS.num_classes, labels_offset=FLAGS.labels_offset,
        use_moving_averages=FLAGS.moving_average_decay is not None or averages,
        use_grayscale=FLAGS.use_grayscale)
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
  from slimvision.core import cli  # pylint: disable=g-import-not-at-top
  cli.run(main, __name__)


if __name__ == '__main__':
  run()
