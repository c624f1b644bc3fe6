r"""Building a net under JAX: the nets' initializers drawing on the host against Keras' draws.

    python benchmarks/jax_build.py                          # inception_v1 and resnet_v1_50, 3 rounds
    python benchmarks/jax_build.py --nets=inception_resnet_v2 --rounds=5

JAX compiles a random op for each new weight shape; `slimvision.nets.initializers`
draws the same distributions with NumPy instead (see its docstring). Each
measurement is a fresh process (JAX keeps what it compiled for the rest of a
process), which builds the net for inference at its default size and reports
the seconds `get_network_fn` took; the peer is the same build with the draws
left to Keras. Rounds interleave the two, and the table gives the median
seconds of each and the median of host / Keras within a round.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_CHILD = r'''
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
import _bootstrap
_bootstrap.as_package()
from slimvision.nets import initializers, nets_factory
if sys.argv[3] == 'keras':
  initializers._draws_on_host = lambda seed: False
start = time.perf_counter()
nets_factory.get_network_fn(sys.argv[2], is_training=False)
print(json.dumps(time.perf_counter() - start))
'''


def build_seconds(name: str, variant: str) -> float:
  proc = subprocess.run([sys.executable, '-c', _CHILD, ROOT, name, variant],
                        env={**os.environ, 'KERAS_BACKEND': 'jax', 'TF_CPP_MIN_LOG_LEVEL': '2'},
                        capture_output=True, text=True, check=True)
  return json.loads(proc.stdout.splitlines()[-1])


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--nets', default='inception_v1,resnet_v1_50')
  parser.add_argument('--rounds', type=int, default=3)
  args = parser.parse_args(argv)
  print(f'{"net":22s} {"host s":>8s} {"keras s":>8s} {"host/keras":>10s}')
  for name in args.nets.split(','):
    times = {'host': [], 'keras': []}
    for _ in range(args.rounds):
      for variant in times:
        times[variant].append(build_seconds(name, variant))
    ratio = statistics.median(h / k for h, k in zip(times['host'], times['keras']))
    print(f'{name:22s} {statistics.median(times["host"]):8.2f} '
          f'{statistics.median(times["keras"]):8.2f} {ratio:10.3f}', flush=True)
  return 0


if __name__ == '__main__':
  sys.exit(main())
