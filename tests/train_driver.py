"""Runs `core.train.train` on in-memory data in its own process (for signal, kill and
multi-worker tests). Usage: python train_driver.py '<TrainConfig fields as JSON>'."""

import json
import sys

import checkout  # pylint: disable=unused-import  (the checkout as slimvision)

from absl import logging  # pylint: disable=wrong-import-position

from slimvision.core import config as config_lib  # pylint: disable=wrong-import-position
from slimvision.core import strategy as strategy_lib  # pylint: disable=wrong-import-position
from slimvision.core import train  # pylint: disable=wrong-import-position


def main():
  values = json.loads(sys.argv[1])
  n = values.pop('num_examples', 64)
  config = config_lib.TrainConfig(**values)
  strategy = strategy_lib.make_strategy(config.num_clones)
  import train_testlib  # pylint: disable=g-import-not-at-top
  logging.set_verbosity(logging.INFO)
  result = train.train(config, input_fn=train_testlib.input_fn_for(config.batch_size, n=n),
                       num_samples=n, num_classes=train_testlib.NUM_CLASSES, strategy=strategy)
  print(json.dumps({'global_step': result.global_step, 'stopped_by': result.stopped_by,
                    'checkpoint': result.checkpoint}), flush=True)


if __name__ == '__main__':
  main()
