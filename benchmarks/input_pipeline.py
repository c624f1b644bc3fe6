"""Input pipeline throughput: decode_jpeg alone vs inception train preprocessing.

    python benchmarks/input_pipeline.py [--num_images=64] [--rounds=8] [--seconds=3] [--batch_size=32]

Three tf.data pipelines over the same ImageNet-sized JPEGs (about 500x375,
made here from scikit-image / scikit-learn sample photos, or plain gradients
with noise when those are not installed), each with map(num_parallel_calls=
AUTOTUNE), batch and prefetch, all cores:

1. decode_jpeg only (the ceiling);
2. inception train preprocessing (fast colour mode) decoding the whole image
   and then cropping;
3. the same with the fused `decode_and_crop_jpeg` (only the crop is decoded).

The pipelines are measured in interleaved rounds (--rounds of --seconds each,
the order reversed every other round) so that all three see the same machine
conditions; it prints the median images/s of each and the median over rounds
of its ratio to decode-only in the same round (which cancels slow drifts in
the machine's speed).
"""

import argparse
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import _bootstrap  # pylint: disable=g-import-not-at-top,wrong-import-position

_bootstrap.as_package()
import rounds  # pylint: disable=wrong-import-position  (this folder's rounds.py)
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from slimvision.preprocessing import inception_preprocessing  # pylint: disable=g-import-not-at-top,wrong-import-position


def _photos():
  photos = []
  try:
    from skimage import data  # pylint: disable=g-import-not-at-top
    for name in ('astronaut', 'coffee', 'chelsea', 'rocket', 'immunohistochemistry',
                 'hubble_deep_field', 'retina'):
      photos.append(np.asarray(getattr(data, name)())[..., :3])
  except ImportError:
    pass
  try:
    from sklearn.datasets import load_sample_images  # pylint: disable=g-import-not-at-top
    photos.extend(load_sample_images().images)
  except ImportError:
    pass
  if not photos:
    rng = np.random.RandomState(0)
    y, x = np.mgrid[0:600, 0:800]
    for i in range(6):
      base = np.stack([(x + 40 * i) % 256, (y + 70 * i) % 256, (x + y) % 256], -1)
      photos.append(np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8))
  return photos


def make_jpegs(n: int, seed: int = 0):
  """n JPEGs of about 500x375 (landscape and portrait), random crops of the photos."""
  rng = np.random.RandomState(seed)
  photos = _photos()
  jpegs = []
  for i in range(n):
    photo = tf.convert_to_tensor(photos[i % len(photos)])
    h, w = int(photo.shape[0]), int(photo.shape[1])
    ch, cw = int(h * rng.uniform(0.6, 1.0)), int(w * rng.uniform(0.6, 1.0))
    y, x = rng.randint(0, h - ch + 1), rng.randint(0, w - cw + 1)
    size = (375, 500) if i % 3 else (500, 375)
    img = tf.image.resize(photo[y:y + ch, x:x + cw], size, antialias=True)
    img = tf.cast(tf.clip_by_value(tf.round(img), 0, 255), tf.uint8)
    jpegs.append(tf.io.encode_jpeg(img, quality=90).numpy())
  return jpegs


def _pipeline(jpegs, fn, batch_size):
  ds = tf.data.Dataset.from_tensor_slices(jpegs).repeat()
  ds = ds.map(fn, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
  return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def measure(it, batch_size, seconds):
  """images/s drawn from the iterator `it` during `seconds`."""
  start, n = time.perf_counter(), 0
  while time.perf_counter() - start < seconds:
    next(it)
    n += batch_size
  return n / (time.perf_counter() - start)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--num_images', type=int, default=64)
  parser.add_argument('--batch_size', type=int, default=32)
  parser.add_argument('--image_size', type=int, default=224)
  parser.add_argument('--seconds', type=float, default=3.0, help='per pipeline and round')
  parser.add_argument('--rounds', type=int, default=8)
  args = parser.parse_args()

  jpegs = make_jpegs(args.num_images)
  sizes = [tuple(int(v) for v in tf.image.extract_jpeg_shape(j).numpy()[:2]) for j in jpegs[:3]]
  size = args.image_size
  bbox = tf.constant([[0.0, 0.0, 1.0, 1.0]])

  # Decode-only returns one pixel so batching does not copy whole images
  # (the decode itself still runs in full).
  decode_only = lambda b: tf.io.decode_jpeg(b, channels=3)[0, 0]
  full = lambda b: inception_preprocessing.preprocess_for_train(
      tf.io.decode_jpeg(b, channels=3), size, size, bbox, fast_mode=True)
  fused = lambda b: inception_preprocessing.preprocess_for_train_from_jpeg(
      b, size, size, bbox, fast_mode=True)

  cpu = platform.processor() or platform.machine()
  print(f'device: CPU ({os.cpu_count()} cores, {cpu}); GPUs visible: '
        f'{len(tf.config.list_physical_devices("GPU"))}')
  print(f'python {platform.python_version()}, tensorflow {tf.__version__}, numpy {np.__version__}')
  print(f'images: {len(jpegs)} JPEGs (q90), e.g. {sizes} (h, w); batch {args.batch_size}; '
        f'output {size}x{size} float32; fast colour mode; {args.rounds} interleaved rounds of '
        f'{args.seconds:.0f} s per pipeline (medians)')
  pipelines = {name: _pipeline(jpegs, fn, args.batch_size)
               for name, fn in [('decode_jpeg only', decode_only),
                                ('inception train, decode then crop', full),
                                ('inception train, fused decode_and_crop_jpeg', fused)]}
  rates = {name: [] for name in pipelines}
  for i in range(args.rounds):
    for name, ds in list(pipelines.items())[::1 if i % 2 == 0 else -1]:
      # A fresh iterator per measurement, so that no other pipeline's threads
      # run in the background; 1 s of warm-up fills its buffers first.
      it = iter(ds)
      measure(it, args.batch_size, 1.0)
      rates[name].append(measure(it, args.batch_size, args.seconds))
      del it
  base = rates['decode_jpeg only']
  for name, r in rates.items():
    print(f'{name:48s} {rounds.median(r):8.1f} images/s   '
          f'{rounds.ratio(r, base)} of decode-only (rounds)')


if __name__ == '__main__':
  main()
