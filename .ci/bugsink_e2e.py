#!/usr/bin/env python3
"""End-to-end check against Bugsink, a real Sentry-compatible server (PyPI).

Installs Bugsink in a venv, starts it on loopback with a fresh SQLite database,
runs the quickstart demo against its DSN, and checks through Bugsink's API that
every report arrived, with its tenant tag and user, and with no secret in it. The
demo's console (fmt, wrapped in `Scrubbed`) and, in the full-stack run, what rotel
collects must hold no secret either.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".ci", "venv")
BUGSINK_VERSION = "2.6.2"
ROTEL_VERSION = "0.0.1a15"
# Strings the demo logs that must never reach Sentry.
SECRETS = [
    "hunter2",
    "s3cr3t-pw",
    "4111 1111 1111 1111",
    "sk_live_51HqLyjWDarjtT1zdp7dc",
    "jane.doe@example.com",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB",
    "eyJzdWIiOiIxIn0",
]
TENANTS = {"acme", "initech", "umbrella", "globex"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# A line of tracing-subscriber's fmt output (not the panic hook's, which is no tracing sink).
FMT_LINE = re.compile(r"^\S+Z\s+(TRACE|DEBUG|INFO|WARN|ERROR) ")


def fmt_lines(text):
    return [l for l in ANSI.sub("", text).splitlines() if FMT_LINE.match(l)]


def log(msg):
    print(f"[bugsink-e2e] {msg}", flush=True)


def run(cmd, **kw):
    log("$ " + " ".join(cmd))
    return subprocess.run(cmd, check=True, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    if not os.path.exists(os.path.join(VENV, "bin", "bugsink-manage")):
        run([sys.executable, "-m", "venv", VENV])
        run([os.path.join(VENV, "bin", "pip"), "install", "-q", f"bugsink=={BUGSINK_VERSION}"])
    bin_dir = os.path.join(VENV, "bin")
    work = tempfile.mkdtemp(prefix="bugsink-")
    port = free_port()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bugsink_conf", PYTHONPATH=work)
    env["PATH"] = bin_dir + os.pathsep + env["PATH"]
    manage = os.path.join(bin_dir, "bugsink-manage")
    run([os.path.join(bin_dir, "bugsink-create-conf"), "--template=local", f"--port={port}", "--host=127.0.0.1"],
        cwd=work, env=env, stdout=subprocess.DEVNULL)
    run([manage, "migrate", "-v0"], cwd=work, env=env)
    run([manage, "migrate", "snappea", "--database=snappea", "-v0"], cwd=work, env=env)
    make_project = (
        "from teams.models import Team\n"
        "from projects.models import Project\n"
        "team, _ = Team.objects.get_or_create(name='ci')\n"
        "project, _ = Project.objects.get_or_create(name='demo', team=team)\n"
        "print('DSN=' + project.dsn)\n"
    )
    out = subprocess.run([manage, "shell"], input=make_project, text=True, capture_output=True,
                         cwd=work, env=env, check=True).stdout
    dsn = [l for l in out.splitlines() if l.startswith("DSN=")][0][4:]
    token = subprocess.run([manage, "create_auth_token"], text=True, capture_output=True,
                           cwd=work, env=env, check=True).stdout.strip().splitlines()[-1]
    server_log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen([manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
                              cwd=work, env=env, stdout=server_log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/", timeout=1)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("Bugsink did not start")
        log(f"Bugsink {BUGSINK_VERSION} up at {base}")

        demo_env = dict(os.environ, SENTRY_DSN=dsn, SENTRY_ENVIRONMENT="ci")
        log("$ cargo run --quiet --example quickstart")
        demo = subprocess.run(["cargo", "run", "--quiet", "--example", "quickstart"], cwd=ROOT,
                              env=demo_env, capture_output=True, text=True, check=True)
        sys.stdout.write(demo.stdout)
        console = demo.stderr
        printed = fmt_lines(console)
        console_leaks = [s for s in SECRETS if any(s in l for l in printed)]
        log(f"quickstart console: {len(printed)} fmt lines; secrets printed {len(console_leaks)}/{len(SECRETS)}")
        if len(printed) < 9 or console_leaks or not any("retrying charge of card" in l for l in printed):
            raise SystemExit(f"quickstart console FAILED: {len(printed)} lines, leaked {console_leaks}")

        def api(path):
            req = urllib.request.Request(base + "/api/canonical/0/" + path,
                                         headers={"Authorization": "Bearer " + token})
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.load(resp)

        events = []
        deadline = time.time() + 30
        while time.time() < deadline:
            issues = api("issues/?project=1")["results"]
            events = [e for i in issues for e in api(f"events/?issue={i['id']}")["results"]]
            if len(events) >= 4:
                break
            time.sleep(0.5)
        details = [api(f"events/{e['id']}/") for e in events]
        tenants = {d["data"].get("tags", {}).get("tenant_id") for d in details}
        users = {d["data"].get("user", {}).get("id") for d in details}
        stored = json.dumps([d["data"] for d in details])
        leaked = [s for s in SECRETS if s in stored]
        levels = sorted(d["data"].get("level", "error") for d in details)  # "error" is the default, not sent
        log(f"{len(details)} events in {len(issues)} issues; tenants {sorted(t or '-' for t in tenants)}; "
            f"users {sorted(u or '-' for u in users)}; levels {levels}; secrets leaked {len(leaked)}/{len(SECRETS)}")
        failures = []
        if len(details) != 4:
            failures.append(f"expected 4 events, Bugsink has {len(details)}")
        if tenants != TENANTS:
            failures.append(f"tenant tags {tenants} != {TENANTS}")
        if None in users:
            failures.append("an event has no user")
        if leaked:
            failures.append(f"secrets stored by Bugsink: {leaked}")
        if "fatal" not in levels:
            failures.append("the panic did not arrive as a fatal event")
        if any(d["data"].get("environment") != "ci" for d in details):
            failures.append("environment from SENTRY_ENVIRONMENT not applied")
        if failures:
            raise SystemExit("bugsink e2e FAILED: " + "; ".join(failures))
        print("bugsink: 4 passed, 0 failed", flush=True)
        full_stack_with_rotel(dsn, api)
        axum_service(dsn, api, os.path.join(work, "server.log"))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def full_stack_with_rotel(dsn, api):
    """examples/full_stack.rs against rotel (a real OpenTelemetry collector, PyPI) and
    Bugsink: each request's trace id must be the collector's trace id for its spans and
    the `trace_id` tag of its Sentry report."""
    pip = os.path.join(VENV, "bin", "pip")
    agent = os.path.join(VENV, "lib", f"python{sys.version_info.major}.{sys.version_info.minor}",
                         "site-packages", "rotel", "rotel-agent")
    if not os.path.exists(agent):
        run([pip, "install", "-q", f"rotel=={ROTEL_VERSION}"])
    http_port, grpc_port = free_port(), free_port()
    log_path = os.path.join(tempfile.mkdtemp(prefix="rotel-"), "rotel.log")
    with open(log_path, "w") as rotel_log:
        rotel = subprocess.Popen([agent, "start", "--otlp-http-endpoint", f"127.0.0.1:{http_port}",
                                  "--otlp-grpc-endpoint", f"127.0.0.1:{grpc_port}", "--exporter", "blackhole",
                                  "--debug-log", "traces", "--debug-log-verbosity", "detailed"],
                                 stdout=rotel_log, stderr=subprocess.STDOUT)
        try:
            for _ in range(50):
                try:
                    socket.create_connection(("127.0.0.1", http_port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            env = dict(os.environ, SENTRY_DSN=dsn, SENTRY_ENVIRONMENT="ci-full-stack",
                       OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{http_port}")
            done = subprocess.run(["cargo", "run", "--quiet", "--example", "full_stack", "--features",
                                   "opentelemetry"], cwd=ROOT, env=env, capture_output=True, text=True,
                                  check=True)
            out = done.stdout
            time.sleep(1)
        finally:
            rotel.terminate()
            rotel.wait(timeout=10)
    traces = [line.split("trace_id ")[1].strip() for line in out.splitlines() if "trace_id " in line]
    with open(log_path) as f:
        collected = f.read()
    deadline = time.time() + 30
    tagged = set()
    while time.time() < deadline:
        issues = api("issues/?project=1")["results"]
        events = [api(f"events/{e['id']}/")["data"] for i in issues for e in api(f"events/?issue={i['id']}")["results"]]
        tagged = {e.get("tags", {}).get("trace_id") for e in events if e.get("environment") == "ci-full-stack"}
        if all(t in tagged for t in traces):
            break
        time.sleep(0.5)
    in_rotel = [t for t in traces if f"Trace ID       : {t}" in collected]
    in_sentry = [t for t in traces if t in tagged]
    stored = json.dumps(events)
    printed = fmt_lines(out + done.stderr)
    leaks = {sink: [s for s in SECRETS if s in text]
             for sink, text in (("rotel", collected), ("fmt", "\n".join(printed)), ("sentry", stored))}
    log(f"full stack: trace ids {traces}; in rotel {len(in_rotel)}/{len(traces)}, "
        f"as Sentry trace_id tags {len(in_sentry)}/{len(traces)}; "
        + "; ".join(f"secrets in {sink} {len(l)}/{len(SECRETS)}" for sink, l in leaks.items())
        + f"; fmt lines {len(printed)}")
    failures = []
    if len(traces) != 2 or len(in_rotel) != 2 or len(in_sentry) != 2:
        failures.append("trace ids")
    failures += [f"{sink} holds {l}" for sink, l in leaks.items() if l]
    # Scrubbing replaces values, not the rest: the kept strings reach the collector.
    if "acme" not in collected or "[Filtered]" not in collected:
        failures.append("rotel lacks the tenant or the [Filtered] markers")
    if len(printed) < 4 or not any("checkout started" in l for l in printed):
        failures.append(f"fmt printed {len(printed)} lines")
    if failures:
        raise SystemExit("full stack with rotel FAILED: " + "; ".join(failures))
    print("rotel: 2 passed, 0 failed", flush=True)


def envelope_statuses(server_log_path, offset):
    """The statuses Bugsink's server answered envelope posts with, logged past `offset`."""
    with open(server_log_path, errors="replace") as f:
        f.seek(offset)
        return [int(m.group(1)) for m in
                re.finditer(r'"POST /api/\d+/envelope/ HTTP/1\.\d" (\d{3})', f.read())]


def axum_service(dsn, api, server_log_path):
    """examples/axum_service.rs (tower-http TraceLayer and CatchPanicLayer, started inside
    #[tokio::main] with SENTRY_DSN set) against Bugsink: a failing request and a
    panicking one are one report each, with the tenant and user its authentication
    middleware recorded; the failure's report is the event id the service answered.
    Structured logs, metrics and release health are on: every envelope (events,
    transactions, `log`, `trace_metric` and `sessions` items) is accepted by Bugsink's
    parser (2xx), and the service says nothing was lost at its SIGTERM shutdown."""
    run(["cargo", "build", "--quiet", "--example", "axum_service"], cwd=ROOT)
    port = free_port()
    env = dict(os.environ, SENTRY_DSN=dsn, SENTRY_ENVIRONMENT="ci-axum", ADDR=f"127.0.0.1:{port}",
               SENTRY_ENABLE_LOGS="true", SENTRY_ENABLE_METRICS="true",
               SENTRY_AUTO_SESSION_TRACKING="true", SENTRY_RELEASE="ci-axum@1.0.0",
               SENTRY_TRACES_SAMPLE_RATE="1.0")
    binary = os.path.join(ROOT, "target", "debug", "examples", "axum_service")
    log_offset = os.path.getsize(server_log_path)
    service_stderr = tempfile.NamedTemporaryFile(prefix="axum-stderr-", delete=False)
    service_stdout = tempfile.NamedTemporaryFile(prefix="axum-stdout-", delete=False)
    service = subprocess.Popen([binary], cwd=ROOT, env=env, stdout=service_stdout,
                               stderr=service_stderr)
    failures = []
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if service.poll() is not None:
                    raise SystemExit(f"axum_service exited with {service.returncode} at start")
                time.sleep(0.1)

        def get(path, tenant, user):
            req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                         headers={"x-tenant-id": tenant, "authorization": f"Bearer {user}"})
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    return resp.status, dict(resp.headers)
            except urllib.error.HTTPError as err:
                return err.code, dict(err.headers)

        status, headers = get("/orders/fail", "acme", "user-7")
        event_id = headers.get("x-sentry-event-id", "").replace("-", "")
        if status != 500 or not event_id:
            failures.append(f"/orders/fail answered {status} without an event id")
        status, _ = get("/orders/panic", "globex", "user-9")
        if status != 500:
            failures.append(f"/orders/panic answered {status}, not CatchPanic's 500")
    finally:
        service.send_signal(15)  # SIGTERM, as Kubernetes stops a pod: graceful shutdown, then the guard flushes
        try:
            service.wait(timeout=15)
        except subprocess.TimeoutExpired:
            service.kill()
            failures.append("axum_service did not stop within 15 s of SIGTERM")
    deadline = time.time() + 30
    reports = []
    while time.time() < deadline:
        issues = api("issues/?project=1")["results"]
        events = [api(f"events/{e['id']}/")["data"] for i in issues for e in api(f"events/?issue={i['id']}")["results"]]
        reports = [e for e in events if e.get("environment") == "ci-axum"]
        if len(reports) >= 2:
            time.sleep(1)  # anything more (a duplicate report) would arrive now
            events = [api(f"events/{e['id']}/")["data"] for i in api("issues/?project=1")["results"]
                      for e in api(f"events/?issue={i['id']}")["results"]]
            reports = [e for e in events if e.get("environment") == "ci-axum"]
            break
        time.sleep(0.5)
    by_tenant = {r.get("tags", {}).get("tenant_id"): r for r in reports}
    log(f"axum service: {len(reports)} reports; tenants {sorted(t or '-' for t in by_tenant)}; "
        f"levels {sorted(r.get('level', 'error') for r in reports)}")
    if len(reports) != 2:
        failures.append(f"expected 2 reports (one failure, one panic), Bugsink has {len(reports)}")
    failure, panic = by_tenant.get("acme"), by_tenant.get("globex")
    if not failure or failure.get("user", {}).get("id") != "user-7":
        failures.append("the failure's report lacks tenant acme / user user-7")
    elif failure.get("event_id", "").replace("-", "") != event_id:
        failures.append(f"the failure's report is not event {event_id}")
    if not panic or panic.get("level") != "fatal" or panic.get("user", {}).get("id") != "user-9":
        failures.append("the panic did not arrive as a fatal report of tenant globex / user user-9")
    if "s3cr3t" in json.dumps(reports):
        failures.append("the database password reached Bugsink")
    statuses = envelope_statuses(server_log_path, log_offset)
    refused = [code for code in statuses if not 200 <= code < 300]
    with open(service_stderr.name, errors="replace") as f:
        said = [l.strip() for l in f if "not delivered" in l]
    log(f"axum service: {len(statuses)} envelopes posted (events, transactions, logs, sessions), "
        f"{len(refused)} refused by Bugsink; losses said at shutdown: {said or 'none'}")
    if len(statuses) < 3:
        failures.append(f"only {len(statuses)} envelope posts in Bugsink's log")
    if refused:
        failures.append(f"Bugsink refused envelopes: statuses {sorted(set(refused))}")
    if said:
        failures.append(f"the service lost reports at shutdown: {said}")
    with open(service_stdout.name, errors="replace") as f:
        console = f.read()
    if "s3cr3t" in console or "Bearer user-" in console:
        failures.append("the console printed the database password or a bearer token")
    if failures:
        raise SystemExit("axum service FAILED: " + "; ".join(failures))
    print("axum service: 3 passed, 0 failed", flush=True)


if __name__ == "__main__":
    main()
