"""The caption page in a real headless Chromium (Debian's `chromium`): it shows sentences as they arrive,
partial text apart from final text, and both looks render (screenshots kept for a human to look at)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from tests.functional.chromium_helpers import headless_chromium
from tests.functional.outputs_helpers import STARTED, live_server, revision

CAPTIONS = "document.getElementById('captions').innerText"
CLASSES = "Array.from(document.querySelectorAll('.sentence')).map(e => e.className)"


def wait_clients(server: object, count: int, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while getattr(server, "clients", 0) < count:
        assert time.monotonic() < deadline, "the page never connected to /events"
        time.sleep(0.05)


def keep_screenshot(path: Path) -> None:
    """Copy a screenshot where a person can find it (CAPTION_SCREENSHOTS=dir), for checking the looks."""
    where = os.environ.get("CAPTION_SCREENSHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(where) / path.name)


def test_the_page_shows_a_sentence_finalised_after_it_loaded(tmp_path: Path) -> None:
    with live_server() as server, headless_chromium(tmp_path / "profile") as browser:
        server.sink(STARTED)
        server.sink(revision(1, 1, "Good morning, everyone.", final=True, source="各位早上好。"))
        browser.open(server.url + "?show=both&lines=3")
        wait_clients(server, 1)
        browser.wait_for(CAPTIONS, lambda text: "Good morning" in (text or ""), 20, "the snapshot")
        # Now, with the page loaded and following the feed, the session goes on.
        server.sink(revision(2, 1, "The meeting", source="会议"))
        shown = browser.wait_for(CAPTIONS, lambda text: "The meeting" in (text or ""), 20, "a partial")
        assert "各位早上好。" in shown  # the source line above
        assert browser.evaluate(CLASSES)[-1].split()[:2] == ["sentence", "partial"]
        server.sink(revision(2, 2, "The meeting starts now.", final=True, source="会议现在开始。"))
        shown = browser.wait_for(CAPTIONS, lambda text: "starts now." in (text or ""), 20, "the final")
        assert browser.evaluate(CLASSES) == ["sentence final", "sentence final current"]
        assert "…" not in shown
        keep_screenshot(browser.screenshot(tmp_path / "caption-screen.png"))


def test_obs_and_projector_looks(tmp_path: Path) -> None:
    with live_server() as server:
        server.sink(STARTED)
        server.sink(revision(1, 1, "Good morning, everyone.", final=True, source="各位早上好。"))
        server.sink(revision(2, 1, "The meeting starts", source="会议现在开始"))
        for look, background in (("obs", "rgba(0, 0, 0, 0)"), ("projector", "rgb(0, 0, 0)")):
            with headless_chromium(tmp_path / f"profile-{look}") as browser:
                browser.open(server.url + f"?look={look}&show=both&size=56")
                browser.wait_for(CAPTIONS, lambda text: "starts" in (text or ""), 20, f"the {look} page")
                style = "getComputedStyle(document.body)"
                assert browser.evaluate(f"{style}.backgroundColor") == background
                size = "getComputedStyle(document.getElementById('captions')).fontSize"
                assert browser.evaluate(size) == "56px"
                if look == "projector":
                    target = "getComputedStyle(document.querySelector('.final .target')).color"
                    assert browser.evaluate(target) == "rgb(255, 255, 0)"
                keep_screenshot(browser.screenshot(tmp_path / f"caption-{look}.png"))
