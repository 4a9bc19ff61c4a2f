"""The web UI tests: Debian's headless Chromium, driven by selenium through chromium-driver, against
the namenode's HTTP port of a cluster of real processes (tests/cluster/web.rs starts it and sets):

  BASALT_UI              the UI's base URL (http://HOST:PORT)
  BASALT_NAMENODE        the namenode's RPC address (for the CLI)
  BASALT_BIN             the basalt binary
  BASALT_DATANODES       JSON: [{"id": N, "addr": "HOST:PORT", "http": "HOST:PORT"}, ...]
  BASALT_WEB_ARTIFACTS   where each page's screenshot is saved
"""

import json
import os
import pathlib
import tempfile

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

UI = os.environ["BASALT_UI"].rstrip("/")
ARTIFACTS = pathlib.Path(os.environ["BASALT_WEB_ARTIFACTS"])


@pytest.fixture(scope="session")
def datanodes():
    return json.loads(os.environ["BASALT_DATANODES"])


@pytest.fixture(scope="session")
def browser():
    profile = tempfile.TemporaryDirectory(prefix="basalt-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    # No internet here: without the background-networking flags Chromium keeps trying to reach
    # its services and has its connections refused many at a time.
    for flag in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        f"--user-data-dir={profile.name}",
    ]:
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    profile.cleanup()


@pytest.fixture
def page(browser):
    """Loads a UI path and returns the driver."""

    def load(path):
        browser.get(UI + path)
        return browser

    return load


def shot(driver, name):
    """Saves a screenshot of the whole page as an artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(900, min(int(height) + 40, 4000)))
    path = ARTIFACTS / f"{name}.png"
    assert driver.save_screenshot(str(path)), path
    print(f"screenshot: {path}")
