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
flags.DEFINE_string('model_name', 'inception_v3', 'Name of the network (see nets_factory).')
flags.DEFINE_string('checkpoint_path', None,
                    'Checkpoint prefix or directory (slim or ours), or "pretrained": the '
                    'release of --model_name (the default without --saved_model_dir).')
flags.DEFINE_integer('num_classes', None, 'Logits width; the network default when unset.')
flags.DEFINE_integer('top_k', 5, 'How many classes to print per image.')
flags.DEFINE_integer('image_size', None, 'Input size; the network default when unset.')
flags.DEFINE_string('preprocessing_name', None, "Defaults to the network's eval preprocessing.")
flags.DEFINE_bool('moving_average', False, 'Use the moving averages of the weights.')
flags.DEFINE_string('dataset_name', None,
                    'The dataset the model was trained on: its label names (and number of '
                    'classes). ImageNet\'s names when unset.')
flags.DEFINE_string('dataset_dir', None,
                    'A dataset directory whose labels.txt names the labels.')
flags.DEFINE_integer('labels_offset', None,
                     'Label = logit index + labels_offset (slim\'s flag); by default 1 for a '
                     '1000-class net with ImageNet\'s 1001 labels, else 0.')
flags.DEFINE_bool('use_grayscale', False, 'The net was trained with --use_grayscale.')
flags.DEFINE_string('saved_model_dir', None,
                    'A SavedModel from export_inference_graph.py --export_dir, instead of '
                    '--model_name and --checkpoint_path.')


from slimvision.core import cli  # pylint: disable=g-import-not-at-top,wrong-import-position

cli.define_checkpoint_sha256(__name__)

def main(argv):
  from slimvision.core import cli  # pylint: disable=g-import-not-at-top
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
  from slimvision.core import config  # pylint: disable=g-import-not-at-top
  with cli.usage_errors():
    config.check_preprocessing_name(FLAGS.preprocessing_name)
  from slimvision.core import predict  # pylint: disable=g-import-not-at-top
  with cli.usage_errors():
    names = predict.dataset_label_names(FLAGS.dataset_name, FLAGS.dataset_dir)
  num_classes = FLAGS.num_classes
  if num_classes is None and names:
    num_classes = len(names) - (FLAGS.labels_offset or 0)
  results = predict.classify(paths, FLAGS.model_name, checkpoint_path,
                             num_classes=num_classes, top=FLAGS.top_k,
                             labels_to_names=names, labels_offset=FLAGS.labels_offset,
                             use_grayscale=FLAGS.use_grayscale,
                             image_size=FLAGS.image_size,
                             preprocessing_name=FLAGS.preprocessing_name,
                             moving_average=FLAGS.moving_average or averages,
                             saved_model_dir=FLAGS.saved_model_dir)
  for path, predictions in zip(paths, results):
    print(predict.format_predictions(path, predictions))


def run():
  """Console entry point (`slimvision-classify`)."""
  from slimvision.core import cli  # pylint: disable=g-import-not-at-top
  cli.run(main, __name__)


if __name__ == '__main__':
  run()
