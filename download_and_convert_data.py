"""Downloads a dataset and converts it to slim's TFRecords (slim's download_and_convert_data.py)."""

import sys

if __name__ == '__main__' and not __package__:
  import _bootstrap  # pylint: disable=g-import-not-at-top
  _bootstrap.as_package()


def run():
  print('download_and_convert_data.py: not implemented yet.', file=sys.stderr)
  sys.exit(2)


if __name__ == '__main__':
  run()
