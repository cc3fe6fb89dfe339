"""A real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``) on loopback."""

import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from streams.local.broker import free_port

BINARY = "prometheus-alertmanager"

CONFIG = """\
route:
  receiver: tocsin
  group_by: [service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: tocsin
    webhook_configs:
      - url: {url}
        send_resolved: true
"""


class Alertmanager:
    def __init__(self, workdir: Path, webhook_url: str, config: str = CONFIG) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.webhook_url = webhook_url
        self.config = config
        self.process: subprocess.Popen | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v2"

    def __enter__(self) -> "Alertmanager":
        binary = shutil.which(BINARY)
        if binary is None:
            raise RuntimeError(f"{BINARY} is not installed; `make test` installs it with apt-get")
        config = self.workdir / "alertmanager.yml"
        config.write_text(self.config.format(url=self.webhook_url))
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={self.workdir / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
            ],
            stdout=(self.workdir / "alertmanager.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=1)
                return self
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("Alertmanager did not become ready")

    def __exit__(self, *exc: object) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(10)

    def post_alerts(self, alerts: list[dict]) -> None:
        request = urllib.request.Request(
            f"{self.api}/alerts",
            data=json.dumps(alerts).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=5).read()

    def fingerprints(self) -> dict[str, str]:
        """alertname → fingerprint as Alertmanager computed it."""
        with urllib.request.urlopen(f"{self.api}/alerts", timeout=5) as response:
            return {a["labels"]["alertname"]: a["fingerprint"] for a in json.load(response)}
