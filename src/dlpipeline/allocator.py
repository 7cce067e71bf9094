"""Freed tensor memory kept in the process for the next epoch, instead of handed back to the OS.

A training step allocates and frees the same few large tensors every epoch (an ensemble's
activations and their gradients, megabytes each). glibc's ``malloc`` serves blocks that
large by mapping fresh pages, or trims them off its heap when they are freed, so every
epoch pays the kernel to hand the same memory back zeroed, one page fault per 4 KiB: the
MLP sweep spent about a fifth of its CPU time so. :func:`keep_freed_memory` raises the
two thresholds once for the process, so freed blocks stay for reuse (at most
:data:`TRIM_THRESHOLD_BYTES` of free memory is kept). Elsewhere than glibc it does nothing.
"""

import ctypes
import ctypes.util
import functools
import logging
import sys

logger = logging.getLogger(__name__)

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
"""glibc's ``mallopt`` parameter numbers (malloc.h)."""
MMAP_THRESHOLD_BYTES = 32 << 20
"""Blocks below this come from the heap, not fresh mappings (glibc's largest dynamic threshold)."""
TRIM_THRESHOLD_BYTES = 256 << 20
"""Free memory at the top of the heap is handed back to the OS only beyond this."""


@functools.cache
def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds for this process (once); whether they were set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
    logger.debug("malloc keeps freed tensor memory: %s", applied)
    return applied
