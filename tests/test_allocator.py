"""The training loop keeps freed tensor memory (glibc) instead of faulting it back every epoch."""

import sys

import pytest

from dlpipeline.allocator import keep_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux's")
def test_the_malloc_thresholds_are_set_and_setting_them_again_is_free():
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True
    assert keep_freed_memory.cache_info().misses == 1
