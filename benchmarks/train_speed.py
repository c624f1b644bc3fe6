r"""Inference and training speed of our Inception nets against keras.applications.

    python benchmarks/train_speed.py                    # 299 x 299, both nets
    python benchmarks/train_speed.py --nets=inception_v3 --image_size=149 --repeats=3 --seconds=1
    python benchmarks/train_speed.py --jit_compile      # also the XLA-compiled variants

For each net, ours (`nets_factory`, no auxiliary head, so the architectures are
the same) and `keras.applications` (weights=None) are measured interleaved in
one process: inference at batch 1 and 8, and a training step (softmax
cross-entropy, SGD with momentum 0.9) at batch 8, each as a plain
`tf.function`. Every measurement is repeated `--repeats` times in turn across
all variants; the table gives median images/s and the median (and range) over
rounds of ours / Keras measured in the same round.
"""

import argparse
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

import _bootstrap  # pylint: disable=wrong-import-position

_bootstrap.as_package()
import rounds  # pylint: disable=wrong-import-position  (this folder's rounds.py)

import keras  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=wrong-import-position

from slimvision.nets import nets_factory  # pylint: disable=wrong-import-position

KERAS_APPS = {
    'inception_v3': keras.applications.InceptionV3,
    'inception_resnet_v2': keras.applications.InceptionResNetV2,
}
NUM_CLASSES = 1001


def _ours(name, size):
  fn = nets_factory.get_network_fn(name, num_classes=NUM_CLASSES, image_size=size,
                                   create_aux_logits=False)
  model = fn.model
  return lambda x, training: model(x, training=training)['Logits'], model


def _keras(name, size):
  model = KERAS_APPS[name](weights=None, input_shape=(size, size, 3), classes=NUM_CLASSES,
                           classifier_activation=None)
  return lambda x, training: model(x, training=training), model


def _inference(call, jit):
  return tf.function(lambda x: call(x, False), jit_compile=jit)


def _train_step(call, model, jit):
  optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
  optimizer.build(model.trainable_variables)
  variables = model.trainable_variables

  def grads(x, y):
    with tf.GradientTape() as tape:
      logits = tf.cast(call(x, True), tf.float32)
      loss = tf.reduce_mean(
          tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    return loss, tape.gradient(loss, variables)

  grads = tf.function(grads, jit_compile=jit)

  @tf.function
  def step(x, y):
    loss, g = grads(x, y)
    optimizer.apply(g, variables)
    return loss

  return step


def _rate(fn, args, batch, seconds, min_calls=2):
  """images/s of `fn(*args)` called repeatedly for at least `seconds` (and min_calls)."""
  np.asarray(fn(*args))  # Warm (already traced); make sure nothing is pending.
  start, calls = time.perf_counter(), 0
  while calls < min_calls or time.perf_counter() - start < seconds:
    np.asarray(fn(*args))
    calls += 1
  return batch * calls / (time.perf_counter() - start)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--nets', default='inception_v3,inception_resnet_v2')
  parser.add_argument('--image_size', type=int, default=299)
  parser.add_argument('--repeats', type=int, default=5)
  parser.add_argument('--seconds', type=float, default=1.5,
                      help='Least time per measurement (at least 2 calls).')
  parser.add_argument('--jit_compile', action='store_true',
                      help='Also measure the XLA-compiled (jit_compile=True) variants.')
  args = parser.parse_args()

  gpus = tf.config.list_physical_devices('GPU')
  device = gpus[0].name if gpus else f'CPU ({os.cpu_count()} cores, {platform.processor()})'
  print(f'device: {device}; tensorflow {tf.__version__}, keras {keras.__version__}; '
        f'float32; image {args.image_size}x{args.image_size}; '
        f'{args.repeats} interleaved repeats of >= {args.seconds:g} s')

  rng = np.random.default_rng(0)
  images = {b: tf.constant(rng.uniform(-1, 1, (b, args.image_size, args.image_size, 3)),
                           tf.float32) for b in (1, 8)}
  labels = tf.constant(rng.integers(0, NUM_CLASSES, 8), tf.int64)
  jits = (False, True) if args.jit_compile else (False,)

  cases = []  # (net, impl, task, jit, fn, fn_args, batch)
  for net in args.nets.split(','):
    for impl, build in (('ours', _ours), ('keras', _keras)):
      call, model = build(net, args.image_size)
      for jit in jits:
        cases.append((net, impl, 'infer b1', jit, _inference(call, jit), (images[1],), 1))
        cases.append((net, impl, 'infer b8', jit, _inference(call, jit), (images[8],), 8))
        cases.append((net, impl, 'train b8', jit, _train_step(call, model, jit),
                      (images[8], labels), 8))
  for case in cases:  # Trace and warm every variant before timing any.
    case[4](*case[5])

  rates = {c[:4]: [] for c in cases}
  for _ in range(args.repeats):
    for net, impl, task, jit, fn, fn_args, batch in cases:
      rates[(net, impl, task, jit)].append(_rate(fn, fn_args, batch, args.seconds))

  print(f"\n{'net':22s} {'task':9s} {'xla':5s} {'ours img/s':>11s} {'keras img/s':>12s} "
        f"{'ours/keras':>10s} (per round)")
  for net in args.nets.split(','):
    for jit in jits:
      for task in ('infer b1', 'infer b8', 'train b8'):
        ours, theirs = rates[(net, 'ours', task, jit)], rates[(net, 'keras', task, jit)]
        print(f'{net:22s} {task:9s} {str(jit):5s} {rounds.median(ours):11.2f} '
              f'{rounds.median(theirs):12.2f} {rounds.ratio(ours, theirs, digits=3):>18s}')


if __name__ == '__main__':
  main()
