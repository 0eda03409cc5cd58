"""End-to-end tests of the desktop app: the real window, driven over WebDriver
(tauri-driver + WebKitWebDriver) under Xvfb, against the built-in simulated
routers. Screenshots go to target/ui-artifacts/ for a person to look at.

Run by scripts/test-ui.sh, which provides the display, the D-Bus session,
tauri-driver and a fresh data folder.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import sys
import time
import unittest
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
APP = Path(os.environ.get("SHAREGUARD_APP", ROOT / "target" / "debug" / "shareguard-app"))
ARTIFACTS = ROOT / "target" / "ui-artifacts"


# The screens re-render as data arrives; an element found a moment ago may be
# replaced, so waits retry through stale and missing elements.
RETRY = (NoSuchElementException, StaleElementReferenceException)


def wait_for_port(port, timeout=20.0):
    """Waits until tauri-driver accepts connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"tauri-driver did not listen on port {port} within {timeout} s")


def end_app_processes():
    """Ends every instance of the app and waits until they are gone: a
    surviving one would receive the next launch (single instance)."""
    subprocess.run(["pkill", "-f", str(APP)], check=False)
    deadline = time.monotonic() + 10
    while subprocess.run(["pgrep", "-f", str(APP)], capture_output=True).returncode == 0:
        if time.monotonic() > deadline:
            subprocess.run(["pkill", "-9", "-f", str(APP)], check=False)
            deadline = time.monotonic() + 10
        time.sleep(0.1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process_group(process):
    """Ends tauri-driver and the WebKitWebDriver it started."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def css(testid, extra=""):
    return (By.CSS_SELECTOR, f'[data-testid="{testid}"]{extra}')


class AppTestCase(unittest.TestCase):
    """Each test gets its own tauri-driver and data folder, so it starts from
    a first run like a new installation (the keyring session is shared)."""

    def setUp(self):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        end_app_processes()
        self.data = tempfile.mkdtemp(prefix="shareguard-ui-")
        self.addCleanup(shutil.rmtree, self.data, True)
        # Fresh ports for every test: a leftover driver can never answer for
        # this one (with another test's environment).
        self.port, native = free_port(), free_port()
        env = dict(os.environ, XDG_DATA_HOME=self.data)
        process = subprocess.Popen(
            ["tauri-driver", "--port", str(self.port), "--native-port", str(native)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        # Registered before anything can fail, so the driver and the app end
        # even when the session cannot be created.
        self.addCleanup(stop_process_group, process)
        self.addCleanup(end_app_processes)
        wait_for_port(self.port)
        options = ArgOptions()
        options.set_capability("browserName", "wry")
        options.set_capability("tauri:options", {"application": str(APP)})
        started = time.monotonic()
        # tauri-driver accepts connections before WebKitWebDriver behind it
        # is ready: retry the session a few times.
        for attempt in range(10):
            try:
                self.driver = webdriver.Remote(f"http://127.0.0.1:{self.port}", options=options)
                break
            except Exception:
                if attempt == 9:
                    raise
                time.sleep(0.5)
        self.addCleanup(self.driver.quit)
        self.wait = WebDriverWait(self.driver, 30, ignored_exceptions=RETRY)
        self.started = started

    def tearDown(self):
        # The last state of every test, to look at when one fails.
        try:
            self.shot(f"end-{self._testMethodName}")
        except Exception:
            pass

    def shot(self, name):
        self.driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))

    def test_demo_scan_whitelist_and_audit(self):
        d, wait = self.driver, self.wait
        start = wait.until(EC.element_to_be_clickable(css("demo-start")))
        print(f"cold start to interactive: {time.monotonic() - self.started:.2f} s", file=sys.stderr)
        self.shot("01-first-run")
        start.click()

        scan = wait.until(EC.element_to_be_clickable(css("scan-all")))
        self.shot("02-demo-ready")
        scan.click()
        wait.until(EC.presence_of_element_located(css("scan-progress", " .router-progress.ok")))
        # Flagged rows appear with their level; the most suspicious come first.
        wait.until(EC.presence_of_element_located(css("result-row", '[data-level="critical"], [data-testid="result-row"][data-level="high"]')))
        WebDriverWait(d, 30, ignored_exceptions=RETRY).until(
            lambda d: len(d.find_elements(*css("scan-progress", " .router-progress.ok"))) == 3
        )
        self.shot("03-scanned")
        rows = d.find_elements(*css("result-row"))
        self.assertGreater(len(rows), 5)
        first = rows[0]
        subscriber = first.get_attribute("data-subscriber")
        self.assertIn(first.get_attribute("data-level"), ("high", "critical"))

        first.click()
        reasons = wait.until(EC.visibility_of_element_located(css("reasons")))
        self.assertGreaterEqual(len(reasons.find_elements(By.TAG_NAME, "li")), 2)
        d.find_element(*css("whitelist-reason")).send_keys("Checked by phone: one family, many devices")
        d.find_element(*css("whitelist-button")).click()
        # Whitelisted, it drops to the bottom of the table: search for it.
        WebDriverWait(d, 15, ignored_exceptions=RETRY).until(
            lambda d: "Remove from whitelist" in d.find_element(*css("whitelist-button")).text
        )
        search = d.find_element(By.CSS_SELECTOR, 'input[type="search"]')
        search.send_keys(subscriber)
        WebDriverWait(d, 15, ignored_exceptions=RETRY).until(
            lambda d: d.find_element(*css("result-row", f'[data-subscriber="{subscriber}"]')).get_attribute("data-level") == "normal"
        )
        self.shot("04-whitelisted")

        # The subscriber page: TTL histogram, history, whitelist state.
        d.find_element(*css("open-subscriber")).click()
        page = wait.until(EC.visibility_of_element_located(css("subscriber-page")))
        wait.until(EC.visibility_of_element_located(css("ttl-histogram")))
        WebDriverWait(d, 15, ignored_exceptions=RETRY).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="subscriber-history"] tbody tr')
        )
        self.assertIn("Whitelisted by owner", page.text)
        self.assertIn(subscriber, page.text)
        self.shot("04b-subscriber")

        d.find_element(By.XPATH, "//nav//button[normalize-space()='Audit log']").click()
        table = wait.until(EC.visibility_of_element_located(css("audit-table")))
        WebDriverWait(d, 15, ignored_exceptions=RETRY).until(lambda d: table.find_elements(By.CSS_SELECTOR, 'tr[data-action="whitelist_add"]'))
        row = table.find_element(By.CSS_SELECTOR, 'tr[data-action="whitelist_add"]')
        self.assertIn(subscriber, row.text)
        self.assertIn("owner", row.text)
        self.assertTrue(table.find_elements(By.CSS_SELECTOR, 'tr[data-action="scan"]'))
        self.shot("05-audit")
        # Filtered on the backend: only the whitelist entry is left.
        Select(d.find_element(*css("audit-action"))).select_by_value("whitelist_add")
        WebDriverWait(d, 15, ignored_exceptions=RETRY).until(
            lambda d: not d.find_elements(By.CSS_SELECTOR, '[data-testid="audit-table"] tr[data-action="flag"]')
        )
        rows = d.find_elements(By.CSS_SELECTOR, '[data-testid="audit-table"] tbody tr')
        self.assertEqual([r.get_attribute("data-action") for r in rows], ["whitelist_add"])

        d.find_element(By.XPATH, "//nav//button[normalize-space()='Whitelist']").click()
        listed = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, f'[data-testid="whitelist-table"] tr[data-subscriber="{subscriber}"]')))
        self.assertIn("Checked by phone", listed.text)
        self.shot("05b-whitelist")

    def test_router_with_password_in_the_keyring(self):
        d, wait = self.driver, self.wait
        # Use a simulated router as the "real" one: start the demo, read its address.
        wait.until(EC.element_to_be_clickable(css("demo-start"))).click()
        wait.until(EC.element_to_be_clickable(css("scan-all")))
        d.find_element(By.XPATH, "//nav//button[normalize-space()='Routers']").click()
        demo_row = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, 'tr[data-router="demo-nas-01"]')))
        address = demo_row.find_elements(By.TAG_NAME, "td")[1].text
        host, port = address.rsplit(":", 1)

        form = wait.until(EC.visibility_of_element_located(css("router-form")))
        keyring = d.find_element(*css("keyring-status"))
        self.assertFalse(keyring.is_displayed(), keyring.text)

        def fill(name, password):
            for field, value in (("name", name), ("host", host), ("port", port), ("username", "demo"), ("password", password)):
                el = form.find_element(By.NAME, field)
                el.clear()
                el.send_keys(value)
            d.find_element(*css("router-save")).click()
            # The form clears the password once the router (and the password,
            # in the keyring) is saved: only then is the next step meaningful.
            WebDriverWait(d, 15, ignored_exceptions=RETRY).until(
                lambda d: form.find_element(By.NAME, "password").get_attribute("value") == ""
            )

        fill("Tower A", "demo")
        row = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, 'tr[data-router="Tower A"]')))
        self.assertIn("password in keyring", row.text)
        row.find_element(*css("router-test")).click()
        WebDriverWait(d, 20, ignored_exceptions=RETRY).until(
            lambda d: "connected" in d.find_element(*css("router-test-result")).text
        )
        self.shot("06-router-connected")

        # The same router with a wrong password: the error says so in words.
        fill("Tower A", "not-the-password")
        WebDriverWait(d, 10, ignored_exceptions=RETRY).until(
            lambda d: d.find_element(By.CSS_SELECTOR, 'tr[data-router="Tower A"]')
        )
        # The list re-renders after saving: click once it has settled.
        WebDriverWait(d, 10, ignored_exceptions=RETRY).until(
            lambda d: d.find_element(By.CSS_SELECTOR, 'tr[data-router="Tower A"]').find_element(*css("router-test")).click() or True
        )
        error = WebDriverWait(d, 20, ignored_exceptions=RETRY).until(
            EC.visibility_of_element_located(css("error-message"))
        )
        WebDriverWait(d, 20, ignored_exceptions=RETRY).until(lambda d: "rejected user" in error.text)
        self.assertIn("password", error.text)
        self.shot("07-router-wrong-password")

    def test_schedule_is_previewed_in_words_and_saved(self):
        d, wait = self.driver, self.wait
        wait.until(EC.element_to_be_clickable(css("demo-start"))).click()
        wait.until(EC.element_to_be_clickable(css("scan-all")))
        d.find_element(By.CSS_SELECTOR, '[data-testid="settings-panel"] summary').click()
        cron = wait.until(EC.visibility_of_element_located(css("schedule-cron")))
        preview = d.find_element(*css("schedule-preview"))
        WebDriverWait(d, 10, ignored_exceptions=RETRY).until(lambda d: "Next:" in preview.text)
        cron.clear()
        cron.send_keys("0 2 * *")
        WebDriverWait(d, 10, ignored_exceptions=RETRY).until(lambda d: "5 fields" in preview.text)
        cron.clear()
        cron.send_keys("*/30 * * * *")
        d.find_element(*css("schedule-enabled")).click()
        WebDriverWait(d, 10, ignored_exceptions=RETRY).until(lambda d: "Next:" in preview.text and "off" not in preview.text)
        self.shot("08-settings")
        d.find_element(*css("settings-save")).click()
        WebDriverWait(d, 10, ignored_exceptions=RETRY).until(
            lambda d: "Saved" in d.find_element(By.CSS_SELECTOR, ".settings .actions").text
        )
        d.find_element(By.XPATH, "//nav//button[normalize-space()='Audit log']").click()
        table = wait.until(EC.visibility_of_element_located(css("audit-table")))
        WebDriverWait(d, 15, ignored_exceptions=RETRY).until(
            lambda d: table.find_elements(By.CSS_SELECTOR, 'tr[data-action="settings_changed"]')
        )


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"{result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
