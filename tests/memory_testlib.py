"""A test process's memory: what it holds now, its peak, and giving freed memory back."""

import ctypes
import ctypes.util
import gc
from typing import Tuple


def _malloc_trim():
  """glibc's malloc_trim(0), where the C library has it: returns the heap's free
  pages to the system (glibc otherwise keeps freed memory in its arenas)."""
  libc = ctypes.util.find_library('c')
  trim = getattr(ctypes.CDLL(libc), 'malloc_trim', None) if libc else None
  return (lambda: trim(0)) if trim else (lambda: None)


_trim = _malloc_trim()


def release_free_memory() -> None:
  """Collects garbage (Keras models hold reference cycles) and gives the freed
  heap back to the system."""
  gc.collect()
  _trim()


def resident_mib() -> Tuple[int, int]:
  """(resident now, peak so far) of this process, in MiB (Linux)."""
  with open('/proc/self/status') as f:
    fields = dict(line.split(':', 1) for line in f)
  return tuple(int(fields[k].split()[0]) // 1024 for k in ('VmRSS', 'VmHWM'))
