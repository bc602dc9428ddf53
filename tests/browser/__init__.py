"""Helpers every browser test shares: waiting on a condition, clicking like a person, and the
console check each test ends with."""
from __future__ import annotations

from collections.abc import Callable

from dash.testing.errors import TestingTimeoutError
from dash.testing.wait import until
from selenium.common.exceptions import (ElementClickInterceptedException, ElementNotInteractableException,
                                        NoSuchElementException, StaleElementReferenceException,
                                        WebDriverException)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

# what a page that is still rendering may throw at us: try again rather than fail
RETRY = (WebDriverException, LookupError, StopIteration)

Target = str | WebElement | Callable[[], WebElement]


def wait_until(condition: Callable[[], object], timeout: float = 30, message: str = "condition not met",
               poll: float = 0.2):
    """``dash.testing.wait.until`` on ``condition``; an element that re-renders while we look (stale,
    missing, covered) counts as "not yet". Returns the condition's truthy value."""

    def attempt():
        try:
            return condition()
        except RETRY:
            return None

    return until(attempt, timeout, poll=poll, msg=message)


def _element(dash_duo, target: Target) -> WebElement:
    if isinstance(target, str):
        return dash_duo.driver.find_element(By.CSS_SELECTOR, target)
    if isinstance(target, WebElement):
        return target
    return target()


def click(dash_duo, target: Target, timeout: float = 20) -> None:
    """Click like a person: scroll the element into view, wait until it is visible and enabled, click.

    ``target`` is a CSS selector, an element, or a function that finds the element (so it can be
    found again when the page re-renders it). A click that lands on an overlay (a loading cover, a
    sliding form) or on an element that went stale is retried until ``timeout``."""
    last: list[BaseException] = []

    def attempt() -> bool:
        try:
            el = _element(dash_duo, target)
            dash_duo.driver.execute_script(
                "arguments[0].scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});", el)
            if not (el.is_displayed() and el.is_enabled()):
                return False
            el.click()
            return True
        except (ElementClickInterceptedException, ElementNotInteractableException, StaleElementReferenceException,
                NoSuchElementException, LookupError, StopIteration) as exc:
            last[:] = [exc]
            return False

    try:
        until(attempt, timeout, poll=0.2)
    except TestingTimeoutError:
        what = target if isinstance(target, str) else "the element"
        why = f" (last: {type(last[0]).__name__}: {(str(last[0]).strip().splitlines() or [''])[0]})" if last else \
            " (never visible and enabled)"
        raise TestingTimeoutError(f"could not click {what} within {timeout} s{why}") from None


def console_errors(dash_duo) -> list[dict]:
    """Every SEVERE entry of the browser console since the test began. Chromium hands each entry
    out once, so the entries read are kept on the fixture and every check sees all of them."""
    kept = dash_duo.__dict__.setdefault("_console_seen", [])
    kept.extend(e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE")
    return list(kept)


def wait_for_console_error(dash_duo, text: str, timeout: float = 30) -> list[dict]:
    """Wait until the console shows an error containing ``text`` (e.g. the 403 of a refused callback)."""
    return wait_until(lambda: [e for e in console_errors(dash_duo) if text in e.get("message", "")], timeout,
                      message=f"no console error containing {text!r}")


def wait_for_callbacks(dash_duo, timeout: float = 30) -> None:
    """Wait until the Dash renderer is up and no callback request is pending (a page that is not a
    Dash page, such as the printable A4 report, has no callbacks to wait for)."""
    def settled():
        if not dash_duo.driver.execute_script("return !!document.getElementById('react-entry-point')"):
            return True
        return dash_duo.driver.execute_script("return !!window.store") and dash_duo.redux_state_rqs == []

    wait_until(settled, timeout, message="callbacks still pending")


# A callback the server refuses shows in the console twice: Chromium's "Failed to load resource:
# the server responded with a status of 403" and the Dash renderer's console.error of the failed
# callback, which Chromium reports only as "dash_renderer....min.js <pos> Object".
REFUSED = "status of 403"
RENDERER = "/dash-renderer/build/dash_renderer"


def assert_no_console_errors(dash_duo, refused: bool = False) -> list[dict]:
    """Fail on SEVERE console entries. A test that provokes a refusal on purpose says
    ``refused=True``: a 403 must then have been logged, and besides the 403s only the renderer's
    reports of the failed callbacks are allowed. Callbacks still under way are waited for first."""
    if refused:
        wait_for_console_error(dash_duo, REFUSED)
    wait_for_callbacks(dash_duo)
    errors = console_errors(dash_duo)
    allowed = (REFUSED, RENDERER) if refused else ()
    unexpected = [e for e in errors if not any(x in e.get("message", "") for x in allowed)]
    assert not unexpected, "console errors: " + "; ".join(e.get("message", "") for e in unexpected)
    if refused:
        assert any(REFUSED in e.get("message", "") for e in errors), \
            f"the expected 403 was not logged; console: {[e.get('message') for e in errors]}"
    return errors


__all__ = ["REFUSED", "assert_no_console_errors", "click", "console_errors", "wait_for_callbacks",
           "wait_for_console_error", "wait_until"]
