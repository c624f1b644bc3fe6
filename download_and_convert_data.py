"""Downloads a dataset and converts it to slim's TFRecords (slim's download_and_convert_data.py).

    slimvision-convert --dataset_name=flowers --dataset_dir=/data/flowers
    python download_and_convert_data.py --dataset_name=digits --dataset_dir=/data/digits

`--dataset_name`: flowers, cifar10, mnist (downloaded from their official
URLs; `--data_url` points elsewhere, e.g. a mirror or a file:// path) or
digits (embedded, no download). ImageNet has its own converter,
`python -m slimvision.datasets.build_imagenet_data`.
"""


if __name__ == '__main__' and not __package__:
  import _bootstrap  # pylint: disable=g-import-not-at-top
  _bootstrap.as_package()

from absl import flags

FLAGS = flags.FLAGS
_CONVERTERS = ('flowers', 'cifar10', 'mnist', 'digits')


def _define_flags():
  flags.DEFINE_string('dataset_name', None,
                      f'The name of the dataset to convert, one of {", ".join(_CONVERTERS)}.')
  flags.DEFINE_string('dataset_dir', None,
                      'The directory where the output TFRecords and temporary files are saved.')
  flags.DEFINE_string('data_url', None,
                      'Overrides the download URL (flowers, cifar10: the archive; mnist: the '
                      'folder holding the four .gz files). http(s):// or file://.')


def convert(dataset_name: str, dataset_dir: str, data_url=None) -> None:
  """Runs the converter of `dataset_name` into `dataset_dir`."""
  from slimvision.datasets import (  # pylint: disable=g-import-not-at-top
      download_and_convert_cifar10, download_and_convert_digits,
      download_and_convert_flowers, download_and_convert_mnist)
  _check_names(dataset_name, dataset_dir)
  converters = {'flowers': download_and_convert_flowers, 'cifar10': download_and_convert_cifar10,
                'mnist': download_and_convert_mnist}
  if dataset_name == 'digits':
    download_and_convert_digits.run(dataset_dir)
  else:
    kwargs = {'data_url': data_url} if data_url else {}
    converters[dataset_name].run(dataset_dir, **kwargs)


def _check_names(dataset_name: str, dataset_dir: str) -> None:
  if not dataset_name:
    raise ValueError(f'--dataset_name is required: one of {", ".join(_CONVERTERS)}.')
  if dataset_name not in _CONVERTERS:
    hint = (' For ImageNet use: python -m slimvision.datasets.build_imagenet_data.'
            if dataset_name == 'imagenet' else '')
    raise ValueError(f'--dataset_name={dataset_name} was not recognized. Expected one of: '
                     f'{", ".join(_CONVERTERS)}.{hint}')
  if not dataset_dir:
    raise ValueError('--dataset_dir is required: the directory where the TFRecords are '
                     'written (created if needed).')


def main(argv):
  from slimvision.core import cli  # pylint: disable=g-import-not-at-top
  cli.check_no_arguments(argv)
  with cli.usage_errors():
    _check_names(FLAGS.dataset_name, FLAGS.dataset_dir)
  cli.check_not_a_file('dataset_dir', FLAGS.dataset_dir)
  convert(FLAGS.dataset_name, FLAGS.dataset_dir, FLAGS.data_url)


def run():
  """Console entry point (`slimvision-convert`)."""
  from slimvision.core import cli  # pylint: disable=g-import-not-at-top
  cli.run(main, __name__, define_flags=_define_flags)


if __name__ == '__main__':
  run()
