"""Ctrl-C during training is a flag read between chunks; a second one raises at once."""

import os
import signal
import threading

import pytest

from specgym.stop_request import StopRequest


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals reach the main thread only")
def test_first_interrupt_sets_the_flag_second_raises_and_the_old_handler_returns():
    before = signal.getsignal(signal.SIGINT)
    with StopRequest() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested  # no exception: the loop will stop at its next check
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


def test_outside_the_main_thread_it_changes_nothing():
    seen = {}

    def body():
        with StopRequest() as stop:
            seen["requested"] = stop.requested
            seen["handler"] = signal.getsignal(signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    worker = threading.Thread(target=body)
    worker.start()
    worker.join()
    assert seen == {"requested": False, "handler": before}
