"""The ``tocsin`` command line: run it, feed it, act on incidents, read policy."""

import getpass
import os
import sys
from pathlib import Path

import click
import orjson

from streams.logs import FORMATS, LEVELS
from streams.settings import DEFAULT_DATA_DIR, DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, Settings, from_env

LIVE_URL = f"http://{DEFAULT_HTTP_HOST}:{DEFAULT_HTTP_PORT}"


def service_options(function: object) -> object:
    """Flags shared by ``up`` and ``worker``; each overrides its ``TOCSIN_*`` variable."""
    options = [
        click.option("--data-dir", type=click.Path(path_type=Path), help=f"State directory [{DEFAULT_DATA_DIR}]."),
        click.option("--http-host", help=f"HTTP bind address [{DEFAULT_HTTP_HOST}]."),
        click.option("--http-port", type=int, help=f"HTTP port [{DEFAULT_HTTP_PORT}]."),
        click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), help="PEM certificate: serve HTTPS."),
        click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), help="PEM key of --tls-cert."),
        click.option("--broker", help="kafka://host:port of the Kafka cluster."),
        click.option("--clickhouse", help="ClickHouse DSN: chdb:///dir or http(s)://user:pass@host:8123."),
        click.option("--database", help="ClickHouse database [tocsin]."),
        click.option("--partitions", type=int, help="Partitions of topics tocsin creates [4]."),
        click.option("--topic-prefix", help="Prefix of topic names [tocsin]."),
        click.option("--event-recorder-topic", help="Read Alertmanager's event recorder (JSON) from this topic."),
        click.option(
            "--policy",
            "policy_file",
            type=click.Path(exists=True, dir_okay=False),
            help="Incident policy YAML (see `tocsin policy`).",
        ),
        click.option("--store", help="Faust table store: memory:// or rocksdb://."),
        click.option("--app-id", help="Consumer group and table namespace [tocsin]."),
        click.option("--log-format", type=click.Choice(FORMATS), help="Log lines [auto: text on a TTY, else JSON]."),
        click.option("--log-level", type=click.Choice(LEVELS, case_sensitive=False), help="Log level [info]."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def settings_from(**flags: object) -> Settings:
    try:
        return from_env().with_(**flags, exit_when_stuck=True)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@click.group()
def main() -> None:
    """tocsin: alerts in, incidents out."""


@main.command()
@service_options
@click.option("--demo", is_flag=True, help="Replay the newcomer scenario once running (what `make run` does).")
def up(demo: bool, **flags: object) -> None:
    """Run everything: broker and ClickHouse (embedded unless given), worker, HTTP."""
    from streams.up import run_up

    settings = settings_from(**flags, demo=demo or None)
    if not flags.get("store") and "TOCSIN_STORE" not in os.environ:
        settings = settings.with_(store="rocksdb://")  # incidents outlive a restart
    run_up(settings)


@main.command()
@click.option("--port", type=int, default=0, help="Loopback port [a free one].")
@click.option("--log-file", type=click.Path(path_type=Path), help="Where the broker writes its log [nowhere].")
def broker(port: int, log_file: Path | None) -> None:
    """Run the embedded Kafka-protocol broker alone, for several tocsin processes on one machine.

    Prints its kafka:// URL (pass it as --broker or TOCSIN_BROKER) and runs until Ctrl-C or
    SIGTERM. It keeps topics in memory: they are gone when it stops.
    """
    import signal
    import time

    from streams.local.broker import EmbeddedBroker

    stop = {"now": False}

    def request_stop(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with EmbeddedBroker(port=port or None, log_file=log_file) as running:
        click.echo(running.url, nl=True)
        sys.stdout.flush()
        while not stop["now"] and running.process is not None and running.process.poll() is None:
            time.sleep(0.5)  # a signal sets the flag and cuts the sleep short
        if running.process is not None and running.process.poll() not in (None, 0) and not stop["now"]:
            raise SystemExit(f"the broker exited with status {running.process.returncode}")


@main.command()
@service_options
@click.option(
    "--roles",
    help="What this process runs, comma-separated: ingest, engine, sink, api, notify "
    "[all but notify; notify too when the policy has channels]. See docs/architecture.md.",
)
def worker(**flags: object) -> None:
    """Run a worker against an external Kafka and ClickHouse (production).

    ClickHouse is needed only by the sink and api roles.
    """
    from streams.up import run_external

    settings = settings_from(**flags)
    if not flags.get("store") and "TOCSIN_STORE" not in os.environ:
        settings = settings.with_(store="rocksdb://")
    run_external(settings)


@main.command()
@click.option("--clickhouse", help="ClickHouse DSN [TOCSIN_CLICKHOUSE or the embedded one under --data-dir].")
@click.option("--database", help="ClickHouse database [tocsin].")
@click.option("--data-dir", type=click.Path(path_type=Path))
def migrate(clickhouse: str | None, database: str | None, data_dir: Path | None) -> None:
    """Apply pending ClickHouse schema migrations."""
    from sinks.clickhouse.client import embedded_dsn, open_client
    from sinks.clickhouse.migrate import migrate as apply

    settings = settings_from(clickhouse=clickhouse, database=database, data_dir=data_dir)
    client = open_client(settings.clickhouse or embedded_dsn(settings.data_dir))
    applied = apply(client, settings.database)
    click.echo(f"applied: {', '.join(applied)}" if applied else "schema is up to date")


@main.command()
@click.argument("source", type=click.File("rb"), default="-")
@click.option("--broker", help="kafka://host:port; default: POST to the running instance (--url).")
@click.option("--url", default=LIVE_URL, show_default=True, help="A running tocsin's HTTP address.")
@click.option("--topic-prefix", help="Prefix of topic names [tocsin].")
def send(source: object, broker: str | None, url: str, topic_prefix: str | None) -> None:
    """Publish a JSONL file of inputs (alerts, checks, reports, commands) to the right topics."""
    from streams.send import send_lines

    settings = settings_from(broker=broker, topic_prefix=topic_prefix)
    counts = send_lines(source.read().splitlines(), settings, url, via_kafka=bool(broker))
    click.echo(", ".join(f"{n} {kind}" for kind, n in counts.items()) or "nothing to send")


def command_options(function: object) -> object:
    options = [
        click.argument("incident_id"),
        click.option("--actor", default=getpass.getuser, show_default="your user name"),
        click.option("--url", default=LIVE_URL, show_default=True, help="A running tocsin's HTTP address."),
        click.option("--token", envvar="TOCSIN_API_TOKEN", help="Bearer token, if the API requires one."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


EX_TEMPFAIL = 75


def _act(action: str, incident_id: str, actor: str, url: str, token: str | None, **fields: object) -> None:
    from streams.client import post_json

    body = {"actor": actor, **{k: v for k, v in fields.items() if v}}
    status, answer = post_json(f"{url}/v1/incidents/{incident_id}/{action}", body, token)
    if status == 200:
        kinds = ", ".join(e["kind"] for e in answer["events"]) or "no change"
        click.echo(f"{action} {incident_id}: {answer['outcome']} ({kinds})")
        return
    if status == 202:  # published, but the engine did not answer in time (it runs elsewhere or is busy)
        click.echo(f"{action} {incident_id}: accepted, outcome not known yet", err=True)
        sys.exit(EX_TEMPFAIL)
    click.echo(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode(), err=True)
    sys.exit(1)


@main.command()
@command_options
def ack(incident_id: str, actor: str, url: str, token: str | None) -> None:
    """Acknowledge an incident."""
    _act("ack", incident_id, actor, url, token)


@main.command()
@command_options
@click.option(
    "--role", required=True, type=click.Choice(["incident_commander", "technical_lead", "communications", "operations"])
)
@click.option("--assignee", required=True)
def assign(incident_id: str, actor: str, url: str, token: str | None, role: str, assignee: str) -> None:
    """Assign a response role."""
    _act("assign", incident_id, actor, url, token, role=role, assignee=assignee)


@main.command()
@command_options
@click.argument("text")
def note(incident_id: str, actor: str, url: str, token: str | None, text: str) -> None:
    """Add a note to the timeline."""
    _act("note", incident_id, actor, url, token, text=text)


@main.command()
@command_options
@click.argument("severity", type=click.Choice(["P0", "P1", "P2", "P3", "auto"]))
def severity(incident_id: str, actor: str, url: str, token: str | None, severity: str) -> None:
    """Set the severity by hand (``auto`` hands it back to the rules)."""
    _act("severity", incident_id, actor, url, token, severity=severity)


@main.command()
@command_options
@click.option("--text", default="")
def resolve(incident_id: str, actor: str, url: str, token: str | None, text: str) -> None:
    """Resolve an incident."""
    _act("resolve", incident_id, actor, url, token, text=text)


@main.command()
@command_options
@click.option("--text", default="")
def reopen(incident_id: str, actor: str, url: str, token: str | None, text: str) -> None:
    """Reopen a resolved or closed incident."""
    _act("reopen", incident_id, actor, url, token, text=text)


@main.command()
@command_options
@click.option("--postmortem-url", default="")
def close(incident_id: str, actor: str, url: str, token: str | None, postmortem_url: str) -> None:
    """Close an incident, optionally linking its post-mortem."""
    _act("close", incident_id, actor, url, token, postmortem_url=postmortem_url)


def silence_options(function: object) -> object:
    options = [
        click.option("--url", default=LIVE_URL, show_default=True, help="A running tocsin's HTTP address."),
        click.option("--token", envvar="TOCSIN_API_TOKEN", help="Bearer token, if the API requires one."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _answered(status: int, answer: object) -> object:
    """``answer`` when the request succeeded; otherwise print it and exit 1."""
    if status != 200:
        click.echo(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode(), err=True)
        sys.exit(1)
    return answer


@main.group()
def silence() -> None:
    """Make, list and expire silences on a running tocsin (no restart)."""


@silence.command("add")
@silence_options
@click.argument("matchers", nargs=-1, required=True)
@click.option("--duration", default="", help="How long: 30m, 2h, 1d [2h unless --end is given].")
@click.option("--start", default="", help="RFC 3339 start [now].")
@click.option("--end", default="", help="RFC 3339 end (instead of --duration).")
@click.option("--created-by", default=getpass.getuser, help="Who makes it [your login].")
@click.option("--comment", default="", help="Why: shown with every signal it mutes.")
def silence_add(url: str, token: str | None, matchers: tuple[str, ...], **fields: str) -> None:
    """Mute signals MATCHERS match, e.g. 'service="db"' 'env=~"staging|dev"'."""
    from streams.client import post_json

    body = {
        "matchers": list(matchers),
        "starts_at": fields["start"],
        "ends_at": fields["end"],
        "duration": fields["duration"] or ("" if fields["end"] else "2h"),
        "created_by": fields["created_by"],
        "comment": fields["comment"],
    }
    made = _answered(*post_json(f"{url}/v1/silences", body, token))
    click.echo(f"silence {made['id']}: {made['matchers']} until {made['ends_at']}")


@silence.command("list")
@silence_options
@click.option("--state", type=click.Choice(["active", "pending", "expired"]), help="Only silences in this state.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def silence_list(url: str, token: str | None, state: str | None, as_json: bool) -> None:
    """Silences, active first."""
    from streams.client import get_json
    from streams.reports import silences_table

    rows = _answered(*get_json(f"{url}/v1/silences" + (f"?state={state}" if state else ""), token))["silences"]
    click.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() if as_json else silences_table(rows))


@silence.command("expire")
@silence_options
@click.argument("silence_id")
def silence_expire(url: str, token: str | None, silence_id: str) -> None:
    """End a silence now: what it muted and still fires is evaluated again."""
    from streams.client import delete_json

    ended = _answered(*delete_json(f"{url}/v1/silences/{silence_id}", token))
    click.echo(f"silence {ended['id']}: {ended['state']} since {ended['ends_at']}")


def read_options(function: object) -> object:
    options = [
        click.option("--url", default=LIVE_URL, show_default=True, help="A running tocsin's HTTP address."),
        click.option("--token", envvar="TOCSIN_API_TOKEN", help="Bearer token, if the API requires one."),
        click.option("--clickhouse", help="ClickHouse DSN, when no instance answers at --url."),
        click.option("--data-dir", type=click.Path(path_type=Path), help="Embedded ClickHouse's directory."),
        click.option("--database", help="ClickHouse database [tocsin]."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@main.command()
@read_options
@click.option("--open", "open_only", is_flag=True, help="Only incidents not yet resolved.")
@click.option("--severity", type=click.Choice(["P0", "P1", "P2", "P3"]))
def incidents(
    url: str, token: str | None, as_json: bool, open_only: bool, severity: str | None, **flags: object
) -> None:
    """List incidents, newest first."""
    from streams.reports import incidents as fetch
    from streams.reports import incidents_table

    rows = fetch(settings_from(**flags), url, token, open_only, severity or "")
    click.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() if as_json else incidents_table(rows))


@main.command()
@read_options
@click.argument("incident_id")
def show(url: str, token: str | None, as_json: bool, incident_id: str, **flags: object) -> None:
    """One incident, whole: severity and why, roles, SLA, every signal, the timeline."""
    from streams.reports import detail_text
    from streams.reports import show as fetch

    incident = fetch(settings_from(**flags), url, token, incident_id)
    click.echo(orjson.dumps(incident, option=orjson.OPT_INDENT_2).decode() if as_json else detail_text(incident))


@main.command()
@read_options
@click.option("--since", default="30d", show_default=True, help="Window: 24h, 7d, 30d …")
@click.option("--service", default="", help="Only incidents touching this service.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False), help="For SLA targets.")
def metrics(url: str, token: str | None, as_json: bool, since: str, service: str, **flags: object) -> None:
    """MTTA, MTTR and SLA compliance per severity, computed by ClickHouse."""
    from streams.reports import metrics as fetch
    from streams.reports import metrics_table

    settings = settings_from(**flags)
    rows = fetch(settings, settings.policy, url, token, since, service)
    click.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() if as_json else metrics_table(rows))


@main.command()
@read_options
@click.argument("incident_id")
def postmortem(url: str, token: str | None, as_json: bool, incident_id: str, **flags: object) -> None:
    """Draft a post-mortem (Markdown, the incident-management template) from the incident's events."""
    from streams.reports import postmortem as draft

    markdown = draft(settings_from(**flags), url, token, incident_id)
    click.echo(orjson.dumps({"markdown": markdown}).decode() if as_json else markdown)


@main.command()
@click.option(
    "--policy", "candidate_file", type=click.Path(exists=True, dir_okay=False), help="The candidate policy YAML."
)
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(exists=True, dir_okay=False),
    help="The policy to compare against [the one in force: TOCSIN_POLICY, else the default].",
)
@click.option("--since", default="7d", show_default=True, help="Window of stored inputs: 24h, 7d, 30d …")
@click.option("--service", default="", help="Only the keys that saw this service.")
@click.option("--first", default=10, show_default=True, help="How many differing incidents to describe.")
@click.option("--clickhouse", help="ClickHouse DSN [TOCSIN_CLICKHOUSE or the embedded one under --data-dir].")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Embedded ClickHouse's directory (tocsin stopped).")
@click.option("--database", help="ClickHouse database [tocsin].")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def backtest(
    candidate_file: str | None, baseline_file: str | None, since: str, service: str, first: int, as_json: bool, **flags
) -> None:
    """Replay stored inputs under the policy in force and a candidate: what would change."""
    from clickhouse_connect.driver.exceptions import ProgrammingError

    from models.policy import PolicyError, load_policy
    from sinks.clickhouse.client import embedded_dsn, open_client
    from streams.backtest import backtest as run
    from streams.backtest import backtest_text

    settings = settings_from(**flags)
    try:
        baseline = load_policy(Path(baseline_file).read_text()) if baseline_file else settings.policy
        candidate = load_policy(Path(candidate_file).read_text()) if candidate_file else None
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        client = open_client(settings.clickhouse or embedded_dsn(settings.data_dir))
    except ProgrammingError as exc:  # chDB opens a directory in one process at a time
        raise click.ClickException(f"{exc}\nIs `tocsin up` running on it? Stop it, or pass --clickhouse.") from None
    try:
        report = run(client, settings.database, baseline, candidate, since, service, first)
    finally:
        client.close()
    click.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() if as_json else backtest_text(report))


@main.command()
@click.option("--check", "check_file", type=click.Path(exists=True, dir_okay=False), help="Validate this file.")
def policy(check_file: str | None) -> None:
    """Print the default incident policy, or validate a policy file."""
    from models.default_policy import DEFAULT_POLICY_YAML
    from models.policy import PolicyError, load_policy

    if not check_file:
        click.echo(DEFAULT_POLICY_YAML, nl=False)
        return
    try:
        load_policy(Path(check_file).read_text())
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{check_file}: valid")


if __name__ == "__main__":
    main()
