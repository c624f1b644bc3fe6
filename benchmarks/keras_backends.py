r"""Our Keras models against keras.applications on another Keras backend (JAX by default).

    python benchmarks/keras_backends.py                       # GPU: bfloat16, batch 64 and 128
    python benchmarks/keras_backends.py --precision=float32 --batch_sizes=4 --rounds=3  # a CPU

For Inception V3 and Inception-ResNet-v2, ours (`slimvision.create_model`, no
auxiliary head, 1000 classes) and `keras.applications` (weights=None, 1000
classes, logits) run through the same Keras machinery on the backend named by
KERAS_BACKEND (default jax): inference with `predict_on_batch` and one
training step with `train_on_batch` (SGD with momentum 0.9, sparse softmax
cross-entropy), both compiled by Keras (jit on JAX). `--precision` sets the
Keras dtype policy (`mixed_bfloat16`: bfloat16 compute, float32 weights).

Each measurement runs at least `--seconds` after two warm-up calls; rounds
interleave every variant, so drifts of the machine's speed hit all alike. The
table gives median images/s over rounds and the median of ours / Keras within
a round. Importing the models needs Keras only; TensorFlow is not imported.
"""

import argparse
import os
import platform
import sys
import time

os.environ.setdefault('KERAS_BACKEND', 'jax')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

import _bootstrap  # pylint: disable=wrong-import-position

_bootstrap.as_package()
import rounds  # pylint: disable=wrong-import-position  (this folder's rounds.py)

import keras  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position

import slimvision  # pylint: disable=wrong-import-position

KERAS_APPS = {
    'inception_v3': 'InceptionV3',
    'inception_resnet_v2': 'InceptionResNetV2',
}
NUM_CLASSES = 1000


def build(name: str, ours: bool, size: int) -> keras.Model:
  """One compiled model: ours or keras.applications', logits out."""
  if ours:
    model = slimvision.create_model(name, num_classes=NUM_CLASSES, image_size=size)
  else:
    model = getattr(keras.applications, KERAS_APPS[name])(
        weights=None, input_shape=(size, size, 3), classes=NUM_CLASSES,
        classifier_activation=None)
  model.compile(keras.optimizers.SGD(0.01, momentum=0.9),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  return model


def measure(step, batch: int, seconds: float) -> float:
  """Images per second of `step()` (which returns host values) over >= `seconds`."""
  step()
  step()
  calls, start = 0, time.perf_counter()
  while True:
    step()
    calls += 1
    elapsed = time.perf_counter() - start
    if elapsed >= seconds:
      return calls * batch / elapsed


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--nets', default='inception_v3,inception_resnet_v2')
  parser.add_argument('--batch_sizes', default='64,128')
  parser.add_argument('--image_size', type=int, default=299)
  parser.add_argument('--precision', default='mixed_bfloat16',
                      choices=['mixed_bfloat16', 'mixed_float16', 'float32'])
  parser.add_argument('--rounds', type=int, default=5)
  parser.add_argument('--seconds', type=float, default=2.0)
  args = parser.parse_args(argv)
  keras.mixed_precision.set_global_policy(args.precision)
  batches = [int(b) for b in args.batch_sizes.split(',')]
  rng = np.random.default_rng(0)
  runs = {}  # (net, mode, batch) -> {'ours': [...], 'keras': [...]}
  steps = {}
  for name in args.nets.split(','):
    for ours in (True, False):
      model = build(name, ours, args.image_size)
      for batch in batches:
        x = rng.uniform(-1, 1, (batch, args.image_size, args.image_size, 3)).astype('float32')
        y = rng.integers(0, NUM_CLASSES, batch)
        who = 'ours' if ours else 'keras'
        steps[(name, 'inference', batch, who)] = (
            lambda m=model, x=x: np.asarray(m.predict_on_batch(x)))
        steps[(name, 'training step', batch, who)] = (
            lambda m=model, x=x, y=y: float(m.train_on_batch(x, y)))
  for r in range(args.rounds):
    for (name, mode, batch, who), step in steps.items():
      value = measure(step, batch, args.seconds)
      runs.setdefault((name, mode, batch), {}).setdefault(who, []).append(value)
    print(f'round {r + 1}/{args.rounds} done', file=sys.stderr, flush=True)
  device = None
  if keras.backend.backend() == 'jax':
    import jax  # pylint: disable=g-import-not-at-top
    device = jax.devices()[0]
  print(f'backend {keras.backend.backend()}, device {device or platform.processor()}, '
        f'precision {args.precision}, {args.image_size} x {args.image_size}, '
        f'{args.rounds} rounds of >= {args.seconds} s')
  print('| net | measurement | batch | ours img/s | keras.applications img/s | ours / Keras |')
  print('|---|---|---|---|---|---|')
  for (name, mode, batch), values in runs.items():
    print(f"| {name} | {mode} | {batch} | {rounds.median(values['ours']):.1f} | "
          f"{rounds.median(values['keras']):.1f} | {rounds.ratio(values['ours'], values['keras'])} |")
  return 0


if __name__ == '__main__':
  sys.exit(main())
