"""`honyaku serve` in a child process, for the scripts that measure or show it (load_test, latency,
screenshots): on a free port of 127.0.0.1, returned once it answers /health."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx

from honyaku.core.errors import HonyakuError


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(arguments: list[str], seconds: float = 120) -> tuple[subprocess.Popen, str]:
    """``honyaku serve ARGUMENTS`` (its access log dropped) and its base URL, once /health answers 200."""
    port = free_port()
    command = [sys.executable, "-m", "honyaku", "serve", "--port", str(port), *arguments]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise HonyakuError(f"the server did not start: {server.stderr.read().strip()[-500:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return server, url
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise HonyakuError(f"the server did not answer /health within {seconds:.0f} s")
