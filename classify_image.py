r"""Prints the top-5 classes of image files with a network and a checkpoint.

    python classify_image.py --model_name=inception_resnet_v2 cat.jpg   # slim's release
    python classify_image.py --model_name=inception_v3 \
        --checkpoint_path=inception_v3.ckpt cat.jpg dog.png

ImageNet's names by default; a net trained on another dataset prints that
dataset's names (`--dataset_dir` with its labels.txt, or `--dataset_name`):

    python classify_image.py --model_name=mobilenet_v2 --dataset_name=flowers \
        --dataset_dir=/tmp/flowers --checkpoint_path=/tmp/flowers/train rose.jpg

or with a SavedModel written by export_inference_graph.py --export_dir:

    python classify_image.py --saved_model_dir=/tmp/inception_v3 cat.jpg dog.png
"""

if __name__ == '__main__' and not __package__:
  import _bootstrap  # pylint: disable=g-import-not-at-top
  _bootstrap.as_package()

from absl import flags  # pylint: disable=wrong-import-position

FLAGS = flags.FLAGS

from slimvision.core import cli  # pylint: disable=g-import-not-at-top,wrong-import-position
from slimvision.core import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position

# One flag per ClassifyConfig field: its name, default and help are the field's.
cli.define_flags(config_lib.ClassifyConfig, __name__)
cli.define_checkpoint_sha256(__name__)


def main(argv):
  paths = argv[1:]
  cli.check(paths, 'No image to classify: give one or more image files after the flags.')
  cli.check_files(paths)
  cli.check(not (FLAGS.checkpoint_path and FLAGS.saved_model_dir),
            'Pass --checkpoint_path (with --model_name) or --saved_model_dir, not both: a '
            'SavedModel holds its own network and weights.')
  cli.check_positive(top_k=FLAGS.top_k, num_classes=FLAGS.num_classes)
  checkpoint_path, averages = None, False
  if FLAGS.saved_model_dir:
    cli.check_saved_model('saved_model_dir', FLAGS.saved_model_dir)
  else:
    cli.check_network(FLAGS.model_name, FLAGS.image_size, 'image_size')
    checkpoint_path, averages = cli.pretrained_checkpoint(
        FLAGS.checkpoint_path or 'pretrained', FLAGS.model_name, FLAGS.checkpoint_sha256)
    cli.check_checkpoint(checkpoint_path)
  cli.check_directory('dataset_dir', FLAGS.dataset_dir, required=False,
                      what='a dataset directory holding labels.txt')
  config = cli.config_from_flags(config_lib.ClassifyConfig, __name__,
                                 checkpoint_path=checkpoint_path,
                                 moving_average=FLAGS.moving_average or averages)
  from slimvision.core import predict  # pylint: disable=g-import-not-at-top
  with cli.usage_errors():
    names = predict.dataset_label_names(config.dataset_name, config.dataset_dir)
  num_classes = config.num_classes
  if num_classes is None and names:
    num_classes = len(names) - (config.labels_offset or 0)
  results = predict.classify(paths, config.model_name, config.checkpoint_path,
                             num_classes=num_classes, top=config.top_k,
                             labels_to_names=names, labels_offset=config.labels_offset,
                             use_grayscale=config.use_grayscale,
                             image_size=config.image_size,
                             preprocessing_name=config.preprocessing_name,
                             moving_average=config.moving_average,
                             saved_model_dir=config.saved_model_dir)
  for path, predictions in zip(paths, results):
    print(predict.format_predictions(path, predictions))


def run():
  """Console entry point (`slimvision-classify`)."""
  cli.run(main, __name__)


if __name__ == '__main__':
  run()
