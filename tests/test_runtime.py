"""The collector pause used by bulk batches restores the collector's state, however nested."""

from __future__ import annotations

import gc
import threading

import pytest

from microcred.runtime import paused_gc


def test_pause_nests_and_restores_an_enabled_collector() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_pause_restores_even_when_the_batch_fails() -> None:
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("batch failed")
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_pauses_in_threads_resume_only_after_the_last() -> None:
    inside, release = threading.Event(), threading.Event()

    def batch() -> None:
        with paused_gc():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=batch)
    worker.start()
    inside.wait(5)
    with paused_gc():
        pass
    assert not gc.isenabled()  # the other thread's batch is still running
    release.set()
    worker.join(5)
    assert gc.isenabled()
