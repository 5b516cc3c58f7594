"""The weight of the public map page `/`: its HTML and every resource the HTML itself loads
(scripts, stylesheets, icons, images), as sent to a browser that accepts gzip and as decoded.
What the page's script then asks for (asset tiles) is measured by the tiles benchmark."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = None
        if tag in ("script", "img") and found.get("src"):
            url = found["src"]
        elif (
            tag == "link"
            and found.get("href")
            and found.get("rel")
            in (
                "stylesheet",
                "icon",
                "preload",
                "modulepreload",
            )
        ):
            url = found["href"]
        if url and url not in self.urls:
            self.urls.append(url)


def weigh(base: str, path: str = "/") -> dict[str, Any]:
    headers = {"accept-encoding": "gzip", "accept": "text/html"}
    with httpx.Client(base_url=base, timeout=30, headers=headers) as client:
        html = client.get(path)
        html.raise_for_status()
        parser = _Resources()
        parser.feed(html.text)
        resources: list[dict[str, Any]] = []
        for url in parser.urls:
            absolute = urljoin(f"{base}{path}", url)
            if urlsplit(absolute).netloc != urlsplit(base).netloc:
                resources.append({"url": url, "external": True})
                continue
            answer = client.get(absolute)
            answer.raise_for_status()
            resources.append(
                {
                    "url": url,
                    "sent_bytes": answer.num_bytes_downloaded,
                    "bytes": len(answer.content),
                }
            )
    local = [r for r in resources if not r.get("external")]
    return {
        "html_sent_bytes": html.num_bytes_downloaded,
        "html_bytes": len(html.content),
        "resources": resources,
        "total_sent_bytes": html.num_bytes_downloaded + sum(r["sent_bytes"] for r in local),
        "total_bytes": len(html.content) + sum(r["bytes"] for r in local),
        "requests": 1 + len(local),
        "external_requests": len(resources) - len(local),
    }
