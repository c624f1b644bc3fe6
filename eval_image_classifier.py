"""Evaluates a checkpoint: top-1 / top-5 on a dataset split (slim's eval_image_classifier.py)."""

import sys

if __name__ == '__main__' and not __package__:
  import _bootstrap  # pylint: disable=g-import-not-at-top
  _bootstrap.as_package()


def run():
  print('eval_image_classifier.py: not implemented yet.', file=sys.stderr)
  sys.exit(2)


if __name__ == '__main__':
  run()
