"""The sequence-order benchmark's makespan: jobs on the first free worker, in the order given."""

from benchmarks.sequence_order import makespan


def test_a_long_job_started_last_keeps_one_worker_busy_alone_at_the_end():
    assert makespan([1.0, 1.0, 1.0, 1.0, 4.0]) == 6.0
    assert makespan([4.0, 1.0, 1.0, 1.0, 1.0]) == 4.0


def test_one_worker_takes_the_sum():
    assert makespan([2.0, 3.0, 0.5], workers=1) == 5.5
