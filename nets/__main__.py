"""Lists the registered networks: `python -m slimvision.nets [--parameters] [PATTERN]`.

One line per net: default input size, input channels, preprocessing, classes,
slim's published ImageNet top-1 / top-5 (%) and whether slim released a
checkpoint (`--checkpoint_path=pretrained`). `--parameters` also counts each
net's parameters (it builds every net: about a minute).
"""

import argparse
import sys
from typing import List, Optional, Sequence


def table(pattern: str = '*', parameters: bool = False) -> List[str]:
  """The listing's lines (a header, then one line per net matching `pattern`)."""
  from slimvision.nets import nets_factory  # pylint: disable=g-import-not-at-top
  header = (f"{'network':<26}{'size':>5}{'ch':>4}  {'preprocessing':<14}{'classes':>8}"
            f"{'top-1':>7}{'top-5':>7}  release" + ('  parameters' if parameters else ''))
  lines = [header]
  for name in nets_factory.list_networks(pattern):
    spec = nets_factory.get_spec(name)
    accuracy = ''.join(f'{v:>7.1f}' if v is not None else f"{'-':>7}"
                       for v in (spec.top1, spec.top5))
    line = (f'{name:<26}{spec.default_image_size:>5}{spec.input_channels:>4}  '
            f'{spec.preprocessing:<14}{spec.num_classes:>8}{accuracy}  '
            f"{'yes' if spec.checkpoint_url else 'no':<7}")
    if parameters:
      count = nets_factory.get_network_fn(name).model.count_params()
      line += f'  {count:>10,}'
    lines.append(line.rstrip())
  return lines


def main(argv: Optional[Sequence[str]] = None) -> int:
  parser = argparse.ArgumentParser(prog='python -m slimvision.nets', description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('pattern', nargs='?', default='*',
                      help="shell-style pattern of names, e.g. 'mobilenet*'")
  parser.add_argument('--parameters', action='store_true', help='count parameters (slow)')
  args = parser.parse_args(argv)
  lines = table(args.pattern, args.parameters)
  if len(lines) == 1:
    parser.error(f'no registered network matches {args.pattern!r}')
  print('\n'.join(lines))
  return 0


if __name__ == '__main__':
  sys.exit(main())
