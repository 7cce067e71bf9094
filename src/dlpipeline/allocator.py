"""Keeping freed memory in the process, so that torch's large temporaries do not fault in fresh pages.

glibc's ``malloc`` serves a block above its mmap threshold (128 KiB, rising with use up to
32 MiB) from pages of its own and returns them to the kernel when it is freed, and it gives the
top of the heap back whenever more than its trim threshold lies free there. A training step of a
wide ensemble allocates and frees several such blocks (each of Adam's ``sqrt`` and ``div`` on a
``(5, 512, 512)`` weight is 5 MiB), so every step faults in and zeroes fresh pages: about a
quarter of a step of the digits' diffusion model on one thread. :func:`keep_freed_memory`
raises both thresholds, so freed blocks stay in the heap for the next step. It changes where
memory comes from, never a value computed in it: results are bit-identical.

Elsewhere than on glibc (macOS, musl) it does nothing.
"""

import ctypes
import ctypes.util
import functools
import logging

logger = logging.getLogger(__name__)

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
"""``mallopt`` parameters (``malloc.h``)."""
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
"""glibc's largest mmap threshold on 64-bit: blocks up to 32 MiB come from the heap and stay there."""
TRIM_THRESHOLD_BYTES = 1024 * 1024 * 1024
"""Free memory the heap may keep at its top (it is still the process's, reused by the next step)."""


@functools.cache
def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process (once); whether it took effect.

    Call it in the process that trains or samples (a worker process calls it for itself).
    """
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        logger.debug("no mallopt in this C library (%s): memory thresholds left as they are", name)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
