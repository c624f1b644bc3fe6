"""Exports a network as a SavedModel / TFLite / GraphDef (slim's export_inference_graph.py)."""

import sys

if __name__ == '__main__' and not __package__:
  import _bootstrap  # pylint: disable=g-import-not-at-top
  _bootstrap.as_package()


def run():
  print('export_inference_graph.py: not implemented yet.', file=sys.stderr)
  sys.exit(2)


if __name__ == '__main__':
  run()
