"""Time to a rendered map: the public page `/` in headless Chromium, from navigation to the first
support markers (clusters or pins) drawn on the map, on a throttled "slow phone" (4x slower CPU,
150 ms round trips, 1.6 Mbit/s down, as DevTools' "Slow 4G") and unthrottled. Medians of a few
loads, each in a fresh browser context (nothing cached)."""

from __future__ import annotations

import shutil
import statistics
from typing import Any

MARKERS = ".cluster-icon, .leaflet-marker-icon"  # clusters or pins, not the area outlines
SLOW_PHONE = {
    "cpu_slowdown": 4,
    "latency_ms": 150,
    "download_bytes_per_s": 1_600_000 // 8,
    "upload_bytes_per_s": 750_000 // 8,
}
LOADS = 3


def time_to_map(base: str, path: str = "/", loads: int = LOADS) -> dict[str, Any]:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise RuntimeError("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            fast = [_one_load(browser, f"{base}{path}", None) for _ in range(loads)]
            slow = [_one_load(browser, f"{base}{path}", SLOW_PHONE) for _ in range(loads)]
        finally:
            browser.close()
    return {
        "path": path,
        "loads": loads,
        "unthrottled_ms": [round(ms) for ms in fast],
        "unthrottled_median_ms": round(statistics.median(fast)),
        "slow_phone": SLOW_PHONE,
        "slow_phone_ms": [round(ms) for ms in slow],
        "slow_phone_median_ms": round(statistics.median(slow)),
    }


def _one_load(browser: Any, url: str, throttle: dict[str, int] | None) -> float:
    """Milliseconds from navigation start to the first marker on the map."""
    context = browser.new_context(viewport={"width": 412, "height": 915})
    try:
        page = context.new_page()
        if throttle is not None:
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle["cpu_slowdown"]})
            cdp.send("Network.enable")
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": throttle["latency_ms"],
                    "downloadThroughput": throttle["download_bytes_per_s"],
                    "uploadThroughput": throttle["upload_bytes_per_s"],
                },
            )
        page.goto(url, wait_until="commit")
        page.wait_for_selector(MARKERS, timeout=60_000)
        return float(page.evaluate("performance.now()"))
    finally:
        context.close()
