"""``make run`` on a fresh data directory: the newcomer demo's incidents and metrics appear;
stopped, ``tocsin backtest`` replays what it left behind."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from streams.local.broker import free_port
from tests.e2e.test_tocsin_up import VENV_BIN, wait_for_line
from tests.support.processes import alive, children

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[2]


def test_make_run_replays_the_demo(tmp_path: Path) -> None:
    port = free_port()
    started = time.monotonic()
    run = subprocess.Popen(
        ["make", "-s", "run", f"ARGS=--data-dir {tmp_path / 'data'} --http-port {port}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # JSON log lines; the demo speaks on stdout
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )
    try:
        lines = wait_for_line(run, "Demo replayed", timeout=90)
        lines += wait_for_line(run, "webhook_configs: [{url:", timeout=30)
        print(f"demo summary {time.monotonic() - started:.1f} s after `make run`")
        out = "".join(lines)
        assert "Demo replayed" in out, out
        rows = {line.split()[3]: line.split() for line in out.splitlines() if line[:12].isalnum() and "-" in line}
        assert set(rows) == {"apex-api", "reports-batch", "search", "checkout", "auth"}, out
        outage = rows["apex-api"]
        assert (outage[1], outage[2]) == ("P0", "resolved")
        assert outage[4].endswith("T14:00:00.000Z") and outage[5].endswith("T14:45:00.000Z")
        p0 = next(line.split() for line in out.splitlines() if line.startswith("P0 "))
        assert p0[1:3] == ["1", "5.0"] and p0[5] == "45.0", out  # MTTA 5 min, MTTR 45 min

        draft = subprocess.run(
            [str(VENV_BIN / "tocsin"), "postmortem", outage[0], "--url", f"http://127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        # A post-mortem reminder joins the timeline once due (24 h after resolution): not part of the story.
        timeline = [line for line in draft.splitlines() if line.startswith("- 14:") and "post-mortem due" not in line]
        assert [line[2:7] for line in timeline] == [
            "14:00",
            "14:02",
            "14:05",
            "14:06",
            "14:06",
            "14:10",
            "14:15",
            "14:30",
            "14:45",
            "14:45",
        ], draft
        assert "Root cause identified: database connection pool exhausted" in timeline[5]
    finally:
        spawned = children(run.pid)
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C in the terminal: make stops, tocsin drains and exits
        run.wait(timeout=60)
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in spawned) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert spawned and not [pid for pid in spawned if alive(pid)]
    backtest_the_demo(tmp_path)


def backtest_the_demo(tmp_path: Path) -> None:
    """With the policy in force the replay publishes the recorded events exactly; a candidate
    needing four failed smoke tests (the demo has three) would not have opened auth's incident."""
    candidate = tmp_path / "candidate.yml"
    candidate.write_text("checks:\n  fail_after: 4\n")
    command = [str(VENV_BIN / "tocsin"), "backtest", "--data-dir", str(tmp_path / "data"), "--json"]
    report = json.loads(subprocess.run([*command, "--policy", str(candidate)], capture_output=True, check=True).stdout)
    assert report["identical_to_recorded"], report
    assert report["recorded_events"] == report["replayed_events"] > 20, report
    assert report["baseline"]["incidents"] == 5 and report["candidate"]["incidents"] == 4, report
    diff = report["differences"]
    assert diff["only_in_baseline"] == 1 and diff["only_in_candidate"] == 0, diff
    (gone,) = [d for d in diff["first"] if d["change"] == "not opened"]
    assert "auth" in gone["title"] or "login" in gone["title"], gone
    assert report["baseline"]["flapping"] >= 1 and report["window"]["inputs"] > 20, report
