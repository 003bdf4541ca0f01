"""Open a page in headless Chromium through the DevTools protocol: images, console errors, a screenshot.

Debian's ``chromium`` package (``apt-get install chromium``); the client is ``websockets``, which
web3 already installs. The browser gets an empty profile in a temporary folder, no network
services (background networking, component updates, sync, first-run) and is stopped afterwards.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers import stop_process

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-port=0",
    "--window-size=1200,900",
)


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageCheck:
    """What the browser saw."""

    images: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    title: str = ""


def check_page(binary: str, page: Path, profile: Path, *, timeout: float = 30.0) -> PageCheck:
    """Load ``page`` (a file) and report its images, console errors and a full-page screenshot."""
    from websockets.sync.client import connect

    profile.mkdir(parents=True, exist_ok=True)
    # Chromium keeps its crash-report settings under $XDG_CONFIG_HOME (~/.config/chromium), whatever
    # --user-data-dir says: HOME and the XDG folders point into the profile, so nothing lands in HOME.
    env = {**os.environ, "HOME": str(profile), "XDG_CONFIG_HOME": str(profile / "config"),
           "XDG_CACHE_HOME": str(profile / "cache"), "XDG_DATA_HOME": str(profile / "data")}
    proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        port = _devtools_port(profile, proc, timeout)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        with connect(url, max_size=64 * 2**20, open_timeout=timeout) as ws:
            session = _Session(ws, timeout)
            result = PageCheck()
            for method in ("Page.enable", "Runtime.enable", "Log.enable"):
                session.call(method)
            session.call("Page.navigate", {"url": page.resolve().as_uri()})
            session.wait_for("Page.loadEventFired")
            images = session.call("Runtime.evaluate", {
                "expression": "JSON.stringify(Array.from(document.images).map(i => "
                              "({src: i.getAttribute('src'), complete: i.complete, width: i.naturalWidth})))",
                "returnByValue": True,
            })
            result.images = json.loads(images["result"]["value"])
            result.title = session.call("Runtime.evaluate", {"expression": "document.title",
                                                             "returnByValue": True})["result"]["value"]
            shot = session.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
            result.screenshot = base64.b64decode(shot["data"])
            result.errors = session.errors
            return result
    finally:
        stop_process(proc)


def _devtools_port(profile: Path, proc: subprocess.Popen[bytes], timeout: float) -> int:
    """Chromium writes the port it chose (``--remote-debugging-port=0``) into the profile."""
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker.is_file():
            first = marker.read_text().splitlines()[:1]
            if first and first[0].isdigit():
                return int(first[0])
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {proc.returncode} before opening DevTools")
        time.sleep(0.1)
    raise RuntimeError("chromium did not open its DevTools port")


class _Session:
    """Calls and events on one page target; console errors and exceptions are collected on the way."""

    def __init__(self, ws: Any, timeout: float) -> None:
        self.ws = ws
        self.timeout = timeout
        self.next_id = 0
        self.errors: list[str] = []
        self.events: list[str] = []

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params or {}}))
        while True:
            message = self._receive()
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    def wait_for(self, event: str) -> None:
        while event not in self.events:
            self._receive()

    def _receive(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.ws.recv(timeout=self.timeout))
        method = message.get("method")
        if method:
            self.events.append(method)
            params = message.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                self.errors.append("console: " + " ".join(str(a.get("value", a)) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                self.errors.append("exception: " + str(params.get("exceptionDetails", {}).get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                self.errors.append(f"log: {entry.get('text')} {entry.get('url', '')}".strip())
        return message
