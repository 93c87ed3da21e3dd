"""The labelling page in a real headless Chromium: label by clicking and by keyboard, labels land in the store."""

import sqlite3

import pytest

from specgym.feedback.webapp import make_server
from test_webapp import make_run_dir

SCREENSHOT_DIR = "screenshots"
pytestmark = pytest.mark.xdist_group("labelling_browser")  # one Chromium for the module


def stored_choices(run_dir):
    with sqlite3.connect(run_dir / "labels.sqlite") as db:
        return dict(db.execute("SELECT pair_id, choice FROM specgym_labels").fetchall())


@pytest.fixture
def served(tmp_path):
    make_run_dir(tmp_path, 8)
    calls = []

    def on_label(labels):  # stands in for the reward model's retraining
        calls.append(len(labels))
        return {"labels": len(labels), "heldout_accuracy": 0.5 + 0.05 * len(labels)}

    server = make_server(tmp_path, port=0, budget=10, on_label=on_label).start()
    yield tmp_path, server
    server.stop()


def wait_for_pair(page, pair_id):
    """Until the page shows ``pair_id`` with both clips loaded (a person watches before answering)."""
    page.wait_for_function("id => document.getElementById('pair-id').textContent.includes('pair ' + id + ' ')"
                           " && [...document.querySelectorAll('figure img')].every(i => i.complete && i.naturalWidth)",
                           arg=pair_id, timeout=10_000)


def test_label_by_click_and_keyboard(browser_page, served, tmp_path_factory):
    run_dir, server = served
    page = browser_page
    page.goto(server.url)
    wait_for_pair(page, "p0")
    assert page.locator("#progress").inner_text() == "0 / 10 labelled · 8 waiting"
    for side in ("left", "right"):  # both clips are real animated GIFs, decoded by the browser
        assert page.eval_on_selector(f"#{side}-clip", "img => img.complete && img.naturalWidth") == 32

    clicks = [("#choose-left", "left"), ("#choose-cant-tell", "cant_tell"), ("#choose-right", "right")]
    for i, (button, _choice) in enumerate(clicks):
        page.click(button)
        wait_for_pair(page, f"p{i + 1}")
        assert page.locator("#progress").inner_text().startswith(f"{i + 1} / 10 labelled")
    keys = [("ArrowRight", "right"), ("1", "left"), ("ArrowDown", "equal"), ("4", "cant_tell")]
    for i, (key, _choice) in enumerate(keys, start=len(clicks)):
        page.keyboard.press(key)
        wait_for_pair(page, f"p{i + 1}")
    assert page.locator("#progress").inner_text() == "7 / 10 labelled · 1 waiting"

    expected = {f"p{i}": choice for i, (_, choice) in enumerate(clicks + keys)}
    assert stored_choices(run_dir) == expected
    assert server.session.retrainer.wait_idle(10)
    page.wait_for_function("() => document.getElementById('model-status').textContent === 'up to date'", timeout=10_000)
    page.wait_for_function("() => document.getElementById('stats').textContent.includes('0.850')", timeout=10_000)
    assert "labels7" in page.locator("#stats").inner_text().replace("\t", "").replace(" ", "")

    page.keyboard.press("x")  # not a shortcut: nothing is sent
    page.keyboard.press("Control+1")
    page.wait_for_timeout(200)
    assert len(stored_choices(run_dir)) == 7
    shots = tmp_path_factory.getbasetemp() / SCREENSHOT_DIR
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / "labelling.png"), full_page=True)

    page.click("#choose-equal")
    page.wait_for_function("() => document.getElementById('idle-text').textContent.startsWith('Nothing left')",
                           timeout=10_000)
    assert page.locator("#pair").is_hidden()
    assert page.locator("#progress").inner_text() == "8 / 10 labelled"
    assert stored_choices(run_dir)["p7"] == "equal"
    make_run_dir(run_dir, 1, first=8, round_=1)  # the loop queues another round: the page picks it up by itself
    wait_for_pair(page, "p8")
    page.screenshot(path=str(shots / "labelling-round1.png"), full_page=True)
    assert page.problems == []


def test_a_label_taken_elsewhere_moves_the_page_on(browser_page, served):
    run_dir, server = served
    page = browser_page
    page.goto(server.url)
    wait_for_pair(page, "p0")
    server.session.store.add("p0", "left", labeller="someone else")  # another tab or labeller got there first
    page.click("#choose-right")
    page.wait_for_function("() => document.getElementById('message').textContent.includes('already labelled')",
                           timeout=10_000)
    wait_for_pair(page, "p1")
    assert stored_choices(run_dir) == {"p0": "left"}
    # a 409 answer is a handled outcome, but Chromium logs every 4xx fetch as a console error
    assert [p for p in page.problems if "409" not in p] == []
