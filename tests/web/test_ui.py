"""Each page of the namenode's web UI in a real browser: what the DOM shows against the cluster the
test started (3 live datanodes, /web with a small file and a 3-block file, a finished word count)."""

import os
import re
import signal
import subprocess
import tempfile

from conftest import UI, shot
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def text(driver, id_):
    return driver.find_element(By.ID, id_).text


def test_root_redirects_to_the_overview(page):
    d = page("/")
    assert d.current_url == UI + "/ui/"
    assert d.title.startswith("Overview")


def test_overview_shows_members_datanodes_and_capacity(page):
    d = page("/ui/")
    assert text(d, "v-live_datanodes") == "3"
    assert text(d, "v-dead_datanodes") == "0"
    assert text(d, "v-safe_mode") == "off"
    assert int(text(d, "v-files")) >= 2
    members = d.find_element(By.ID, "members").text
    assert "leader" in members and "(this member)" in members, members
    assert text(d, "v-capacity_total") not in ("", "0 B")
    shot(d, "overview")


def test_datanodes_page_lists_every_datanode(page, datanodes):
    d = page("/ui/datanodes")
    rows = d.find_elements(By.CSS_SELECTOR, "tr.datanode")
    assert len(rows) == 3
    table = d.find_element(By.ID, "datanodes").text
    for dn in datanodes:
        assert dn["addr"] in table, table
        assert text(d, f"v-dn-{dn['id']}-state") == "live"
        assert "ago" in text(d, f"v-dn-{dn['id']}-heartbeat")
    links = {a.get_attribute("href") for a in d.find_elements(By.CSS_SELECTOR, "#datanodes a")}
    assert links == {f"http://{dn['http']}/metrics" for dn in datanodes}, links
    assert d.find_element(By.ID, f"bar-dn-{datanodes[0]['id']}")
    shot(d, "datanodes")


def test_file_browser_lists_files_and_shows_block_replicas(page, datanodes):
    d = page("/ui/files?path=/web")
    names = [a.text for a in d.find_elements(By.CSS_SELECTOR, "#listing a.name")]
    assert "hello.txt" in names and "blocks.bin" in names and "sub/" in names, names
    listing = d.find_element(By.ID, "listing").text
    assert re.search(r"-r[w-][x-]r[w-][x-]r[w-][x-]", listing) and "drwx" in listing, listing
    shot(d, "files")

    d.find_element(By.LINK_TEXT, "blocks.bin").click()
    WebDriverWait(d, 10).until(lambda d: d.find_elements(By.ID, "blocks"))
    blocks = d.find_elements(By.CSS_SELECTOR, "tr.block")
    assert len(blocks) == 3, d.find_element(By.ID, "blocks").text
    addrs = {dn["addr"] for dn in datanodes}
    for b in blocks:
        hosts = {r.text.split(" ")[0] for r in b.find_elements(By.CSS_SELECTOR, ".replica")}
        # Replication 3 on 3 datanodes: every block on every datanode.
        assert hosts == addrs, (b.text, addrs)
    href = d.find_element(By.ID, "download").get_attribute("href")
    assert href == UI + "/webhdfs/v1/web/blocks.bin?op=OPEN", href
    shot(d, "file")


def test_a_missing_path_says_so(page):
    d = page("/ui/files?path=/web/no-such-file")
    assert "not found" in text(d, "error").lower() or "no such" in text(d, "error").lower()


def test_healing_counts_are_zero_on_a_healthy_cluster(page):
    d = page("/ui/healing")
    for key in ["under_replicated", "missing", "corrupt", "copies_in_flight"]:
        assert text(d, f"v-{key}") == "0", key
    assert d.find_element(By.ID, "healthy")
    shot(d, "healing")


def test_jobs_page_shows_the_finished_job(page):
    d = page("/ui/jobs")
    rows = d.find_elements(By.CSS_SELECTOR, "tr.job")
    assert rows, d.page_source
    row = rows[0].text
    assert "wordcount" in row and "succeeded" in row, row
    shot(d, "jobs")


def test_live_values_refresh_without_a_reload(page):
    d = page("/ui/")
    loaded = d.execute_script("return window.basaltPageLoaded")
    before = int(text(d, "v-files"))
    updated = text(d, "v-updated")
    with tempfile.NamedTemporaryFile("wb", suffix=".txt") as f:
        f.write(b"written while the page was open\n")
        f.flush()
        subprocess.run(
            [os.environ["BASALT_BIN"], "fs", "put", f.name, "/web/later.txt"],
            env={**os.environ, "BASALT_NAMENODE": os.environ["BASALT_NAMENODE"]},
            check=True,
            capture_output=True,
        )
    WebDriverWait(d, 15, poll_frequency=0.2).until(lambda d: int(text(d, "v-files")) == before + 1)
    assert text(d, "v-updated") != updated
    assert d.execute_script("return window.basaltPageLoaded") == loaded, "the page was reloaded"
    assert d.execute_script("return window.basaltRefreshes") >= 1
    shot(d, "overview-refreshed")


def test_a_killed_datanode_turns_dead_and_its_blocks_under_replicated(page):
    """Last: it kills a datanode. Replication 3 on 3 datanodes, so nothing can be copied back and
    the blocks stay under-replicated; every value changes in pages that stay loaded."""
    d = page("/ui/")
    loaded = d.execute_script("return window.basaltPageLoaded")
    os.kill(int(os.environ["BASALT_VICTIM_PID"]), signal.SIGKILL)
    victim = os.environ["BASALT_VICTIM_ID"]
    WebDriverWait(d, 30, poll_frequency=0.2).until(
        lambda d: text(d, "v-live_datanodes") == "2" and text(d, "v-dead_datanodes") == "1"
    )
    assert d.execute_script("return window.basaltPageLoaded") == loaded, "the page was reloaded"

    d = page("/ui/healing")
    WebDriverWait(d, 30, poll_frequency=0.2).until(lambda d: int(text(d, "v-under_replicated")) >= 3)
    d = page("/ui/healing")
    sick = d.find_element(By.ID, "sick").text
    assert "/web/blocks.bin" in sick, sick
    shot(d, "healing-datanode-dead")

    d = page("/ui/datanodes")
    assert text(d, f"v-dn-{victim}-state") == "dead"
    assert len(d.find_elements(By.CSS_SELECTOR, "td.dead")) == 1
    shot(d, "datanodes-one-dead")
