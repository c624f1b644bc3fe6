"""Checks a network against slim's outputs on a synthetic checkpoint of any seed.

    python benchmarks/slim_parity.py --net inception_resnet_v2 --seed 0 \
        --reference path/to/inception_resnet_v2.seed0.npz

Builds the synthetic checkpoint of the recipe in tests/synthetic.py for the
given weight seed, restores it by slim name (every variable must match), runs
the net (is_training=False) on the reference's `images` (or on
`synth_images(--num_images, default size, seed=--image_seed)`), and prints
the logits' summary; with --reference (a .npz holding `logits` and optionally
`images`, `noise`, `noise_kernel`), prints the relative error against it, the
tolerance max(1e-4, 20 x noise) and whether the top-1 classes agree.
--save writes our logits to an .npz.
"""

import argparse
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, 'tests')]
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import _bootstrap  # pylint: disable=g-import-not-at-top,wrong-import-position

_bootstrap.as_package()

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

import synthetic  # pylint: disable=g-import-not-at-top,wrong-import-position
from slimvision.nets import checkpoints, nets_factory  # pylint: disable=g-import-not-at-top,wrong-import-position


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--net', required=True, choices=nets_factory.list_networks())
  parser.add_argument('--seed', type=int, default=0, help='weight seed of the recipe')
  parser.add_argument('--reference', help='.npz with slim logits (and images)')
  parser.add_argument('--num_images', type=int, default=2)
  parser.add_argument('--image_seed', type=int, default=0)
  parser.add_argument('--num_classes', type=int, default=None)
  parser.add_argument('--save', help='write our logits to this .npz')
  args = parser.parse_args()

  ref = dict(np.load(args.reference)) if args.reference else {}
  fn = nets_factory.get_network_fn(args.net, num_classes=args.num_classes, is_training=False)
  if 'images' in ref:
    images = ref['images'].astype(np.float32)
  else:
    images = synthetic.synth_images(args.num_images, fn.image_size, fn.spec.input_channels,
                                    seed=args.image_seed)
  with tempfile.TemporaryDirectory() as tmp:
    prefix = synthetic.write_checkpoint(checkpoints.slim_variable_names(fn).items(),
                                        os.path.join(tmp, 'model.ckpt'), args.net, args.seed)
    report = checkpoints.restore_checkpoint(fn, prefix)
  logits = np.asarray(fn(images)[0], np.float64)
  print(f'{args.net}: weight seed {args.seed}, restored {len(report.restored)} variables, '
        f'images {images.shape}')
  print(f'logits max|.| {np.abs(logits).max():.6g}  top-1 {logits.argmax(-1).tolist()}')
  if args.save:
    np.savez(args.save, logits=logits.astype(np.float32), images=images)
  if 'logits' in ref:
    want = ref['logits'].astype(np.float64)
    rel = np.abs(logits - want).max() / np.abs(want).max()
    tol = synthetic.tolerance(ref)
    same_top1 = bool(np.array_equal(logits.argmax(-1), want.argmax(-1)))
    ok = rel <= tol and same_top1
    print(f'relative error {rel:.3g}  tolerance {tol:.3g}  same top-1 {same_top1}  '
          f"{'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
  main()
