"""tocsin's default incident policy, as YAML text (printed by ``tocsin policy``).

Kept as a string so that loading it is no I/O: ``models/`` stays pure.
"""

DEFAULT_POLICY_YAML = """\
# tocsin's default incident policy. Copy it, change what you need, and pass it with
# --policy FILE (or TOCSIN_POLICY). Durations: 90s, 15m, 4h, 7d. Every section is optional;
# a missing key keeps the default shown here.

correlation:
  # First non-empty label names the correlation key (and the incident's primary service).
  key_labels: [service, job, alertname]
  # Optional per-source grouping: the key becomes these labels' values, joined.
  group_by: {}              # e.g. {pagerduty: [component, group]}
  # Services that depend on each other share one incident; the deepest failing dependency
  # is named as root-cause candidate. Map a service to the services it depends on.
  dependencies: {}          # e.g. {checkout: [payments, postgres], payments: [postgres]}
  reopen_window: 30m        # a signal within this long after resolution reopens the incident
  max_age: 24h              # an incident older than this absorbs no new signals
  quiet: 0                  # … nor one without signal activity for this long (0: no limit)
  open_after:               # gate: open only once this many distinct signals fire within `within`
    signals: 1
    within: 5m

dedup:
  # What makes two inputs one signal, for sources without an identity of their own:
  #   generic: labels or top-level string fields (unless the input has a dedup_key)
  #   pagerduty: source, summary, component, group, class, severity or custom_details keys
  #              (triggers without dedup_key; default: all of their content)
  #   report: service, reporter, channel, summary (default: every report is its own signal)
  # Alertmanager, Grafana and checks have their own identity: fields for them are refused.
  fields: {}                # e.g. {generic: [service, check, region], report: [service, reporter]}
  # A re-send counts as a repeat (and refreshes the signal's last-seen time) this long after
  # the last one counted: copies from an Alertmanager HA pair, retries and senders that
  # re-send every few seconds count once a minute (each count is a state write).
  repeat_after: 1m

checks:
  fail_after: 3             # consecutive failures of a probe before the check fires
  pass_after: 2             # consecutive passes before it resolves
  warn_counts_as_fail: false

flapping:
  changes: 4                # this many firing/resolved changes of one signal within `window`
  window: 10m
  quiet: 15m                # … and it stops flapping after this long without a change

resolution:
  auto: all                 # all | first | last | manual
  stale_after:              # resolve a firing signal not seen for this long (0: never)
    alertmanager: 0
    grafana: 0
    pagerduty: 0
    generic: 1h
    check: 30m
    report: 0

severity:
  allow_downgrade: false    # automatic downgrades only when true; humans can always set one
  # Ordered rules, first match wins. `any` is a list of conditions; a condition maps facts
  # to a value, a list of allowed values, or {gte: N}. Facts and their values:
  #   impact: outage, data_loss, security, major_feature_broken, minor_feature_broken,
  #           cosmetic, nice_to_have            (label or annotation `impact`)
  #   performance: significant, moderate, minor (label or annotation `performance`)
  #   scope: all, multiple, some, none          (label or annotation `scope`: users affected)
  #   workaround: true, false                   (label or annotation `workaround`)
  #   source_severity: critical, error, warning, info   (the sender's own severity)
  #   affected_services, failing_checks, user_reports: counts; check_outage: true/false
  # A value outside these is named under `unrecognised` in the incident's severity reasons.
  rules:
    # One condition per bullet of the procedure's severity levels; a source's own severity
    # and the incident's breadth (services, checks, user reports) map onto the same levels.
    - id: p0-critical
      severity: P0
      any:
        - {impact: outage}                # complete system outage
        - {impact: data_loss}             # data loss or corruption
        - {impact: security}              # security breach
        - {scope: all}                    # affects all users
        - {check_outage: true}
        - {source_severity: critical}
    - id: p1-high
      severity: P1
      any:
        - {impact: major_feature_broken}  # major feature broken
        - {performance: significant}      # significant performance degradation
        - {scope: multiple}               # affects multiple users
        - {workaround: false}             # no workaround
        - {source_severity: error}
        - {affected_services: {gte: 3}}
        - {user_reports: {gte: 5}}
    - id: p2-medium
      severity: P2
      any:
        - {impact: minor_feature_broken}  # minor feature broken
        - {performance: moderate}         # moderate performance issues
        - {workaround: true}              # workaround available
        - {scope: some}                   # affects some users
        - {source_severity: warning}
        - {failing_checks: {gte: 1}}
        - {user_reports: {gte: 1}}
    - id: p3-low
      severity: P3
      any:
        - {impact: cosmetic}              # cosmetic issues
        - {performance: minor}            # minor performance degradation
        - {scope: none}                   # no user impact
        - {impact: nice_to_have}          # nice-to-have fixes
        - {}                              # anything else

sla:                        # response = acknowledge; resolution = resolve. From detection.
  P0: {response: 15m, resolution: 4h}
  P1: {response: 1h, resolution: 24h}
  P2: {response: 4h, resolution: 72h}
  P3: {response: 24h, resolution: 7d}

postmortem:
  severities: [P0, P1]
  initial: 24h              # initial post-mortem due this long after resolution
  detailed: 7d              # detailed post-mortem due this long after resolution

suppression:
  # silences: [{matchers: {alertname: Foo, env: "=~staging|dev"},
  #             starts_at: RFC 3339, ends_at: RFC 3339, comment: why}]
  silences: []
  maintenance: []           # [{service: db, days: [sun], start: "02:00", end: "04:00"}]  (UTC)
  # inhibit: a firing source mutes matching targets, in every correlation key, that share
  # the `equal` labels; with `dependents: true`, only targets of services depending on the
  # source's service (see `correlation.dependencies`). Made at run time as silences (GET /v1/silences).
  # [{source: {alertname: SystemDown}, target: {severity: warning}, equal: [cluster], dependents: true}]
  inhibit: []

retention:
  resolved: 8d              # forget resolved/closed incidents this long after resolution

# PagerDuty Events API v2 senders (/v1/events, /v2/enqueue): the service, and team, each
# routing (integration) key stands for, as a PagerDuty service would, so an acknowledge or
# resolve reaches the incident its trigger opened. An unmapped key: the service comes from
# the event (custom_details.service, component, source; "unknown" for acknowledge/resolve).
# Changes (deploys, config pushes; POST /v1/changes, /v2/change/enqueue, tocsin.changes): an
# incident that opens within this window after a change of its correlation key (its
# service, or one in its dependency component), or is open when it comes, notes it on its
# timeline (change_noted) — the procedure's "review recent changes", answered up front.
changes:
  window: 2h

# CloudEvents (HTTP and Kafka, structured, binary or batch): what a producer's own event
# types carry. First matching glob wins; without one, a type ending in a format's name has
# that format (com.example.tocsin.signal). Formats: alertmanager.webhook, prometheus.alert,
# pagerduty.event, tocsin.signal, tocsin.change.
cloudevents:
  types: []                 # e.g. [{type: "com.example.alert.*", format: tocsin.signal}]

# Notifications (the `notify` role; `tocsin up` runs it when channels are set). Channels:
# type webhook (JSON: the event, the incident, links) or slack (an incoming webhook's text);
# `template` overrides the text ({kind} {what} {incident_id} {title} {severity} {status}
# {service} {services} {at} {runbook} {ack} {link} {step} {channel}); `headers` are sent too.
# Routes: first match wins (match on severity, service, title; a list means any of).
#   escalation: page `notify` `after` detection, again every `repeat`, until acknowledged
#   updates: status-update reminders every `every` while open
#   on: lifecycle events announced to `notify` (default: the first step's channels);
#       a channel paged at detection hears of `opened` once, in its page
# Each notification has an id (header Idempotency-Key) that stays the same across retries.
# Delivery: capped exponential backoff; failing past give_up → the dead-letter topic.
notifications:
  public_url: ""            # where people reach tocsin (ack links); "" prints `tocsin ack ID`
  channels: {}
  # channels:
  #   oncall: {type: webhook, url: "https://pager.example/hook"}
  #   chat:   {type: slack, url: "https://hooks.slack.com/services/T000/B000/XXX"}
  routes: []
  # routes:
  #   - match: {severity: [P0, P1]}
  #     escalation:
  #       - {after: 0m, notify: [oncall, chat]}
  #       - {after: 15m, notify: [oncall], repeat: 10m}   # re-page until acknowledged
  #     updates: {every: 30m, notify: [chat]}
  #     on: [opened, acknowledged, severity_changed, resolved, sla_breached]
  #   - match: {}
  #     escalation: [{after: 0m, notify: [chat]}]
  #     on: [opened, resolved]
  delivery: {max_backoff: 5s, give_up: 10m}   # retries: 200ms, 400ms, … at most max_backoff apart

pagerduty:
  routing_keys: {}          # {R0123456789ABCDEF0123456789ABCDEF: {service: checkout, team: payments}}

# The runbook of an incident whose signals name none (annotation runbook_url): the first
# entry whose matchers match the signal's labels (service included); a relative url is
# joined to runbook_base_url. The defaults are the procedure's runbooks in deploy/runbooks/.
runbook_base_url: deploy/runbooks/
runbooks:
  - {match: {alertname: "=~SystemDown|ApiDown|APIDown|ServiceDown|.*Unreachable"}, url: api-down.md}
  - {match: {alertname: "=~HighErrorRate|.*Errors?"}, url: high-error-rate.md}
  - {match: {service: "=~db|database|postgres.*|mysql.*"}, url: database-issues.md}
  - {match: {alertname: "=~Tocsin.*Lag.*"}, url: tocsin-consumer-lag.md}
  - {match: {alertname: "=~TocsinWorkerDown|TocsinNoWorkerUp"}, url: tocsin-worker-down.md}
"""
