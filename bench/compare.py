#!/usr/bin/python3
"""Side-by-side benchmark of Tern and Mosquitto with tern-bench (run it through compare.sh).

Every run gets a fresh broker on a free loopback port (so peak RSS is that run's), runs one
tern-bench scenario against it with --pid, and stops it. Brokers alternate inside each round:
for every round, for every scenario, Tern (each worker count), then Mosquitto. The summary gives
per scenario and broker the median and min-max of the headline metric over the rounds, the
Tern/Mosquitto ratio of the medians, broker CPU, broker peak RSS and tern-bench's own CPU.
"""
import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
QUEUE_DEPTH = 1_000_000  # per-client queue on both brokers: a closed loop never overflows it
INFLIGHT = 100           # outgoing QoS 1/2 window per client on both brokers (Tern's default)
KIB = 1024


@dataclass
class Scenario:
    key: str
    label: str
    args: list
    metric: str = "rate"          # rate (msg/s, higher is better), p99 (µs) or rss (B/conn)
    nodelay_variant: bool = False  # also run Mosquitto with set_tcp_nodelay true


@dataclass
class Broker:
    key: str          # tern-w1, tern-w2, mosquitto, mosquitto-nodelay
    label: str
    kind: str         # tern or mosquitto
    workers: int = 1
    nodelay: bool = False


@dataclass
class RunResult:
    scenario: str
    broker: str
    round: int
    report: dict = None
    exit_code: int = 0
    problem: str = ""       # crash, startup failure, timeout: with how to reproduce
    commands: list = field(default_factory=list)


def scenarios(args):
    idle = args.idle_connections
    base = ["--window", str(args.window)] + (["--open-loop"] if args.open_loop else [])
    all_scenarios = [
        Scenario("fanin-q0", "fan-in 8→1 QoS 0", ["--scenario", "fan-in", "--publishers", "8"]),
        Scenario("fanin-q1", "fan-in 8→1 QoS 1",
                 ["--scenario", "fan-in", "--publishers", "8", "--qos", "1"]),
        Scenario("fanout", "fan-out 1→100 QoS 0", ["--scenario", "fan-out", "--subscribers", "100"]),
        Scenario("pairs-q0", "50 pairs QoS 0", ["--scenario", "pairs", "--pairs", "50"]),
        Scenario("pairs-q1", "50 pairs QoS 1", ["--scenario", "pairs", "--pairs", "50", "--qos", "1"]),
        Scenario("pairs-1k", "50 pairs 1 KiB", ["--scenario", "pairs", "--pairs", "50",
                                                "--payload", str(KIB)]),
        # A window of 1,000 64 KiB messages would be 64 MiB per publisher in flight: cap it.
        Scenario("pairs-64k", "50 pairs 64 KiB", ["--scenario", "pairs", "--pairs", "50",
                                                  "--payload", str(64 * KIB),
                                                  "--window-bytes", str(args.window_bytes)]),
        Scenario("latency", "latency 10 pairs @10k msg/s",
                 ["--scenario", "latency", "--pairs", "10", "--rate", "10000"], metric="p99",
                 nodelay_variant=True),
        Scenario("idle", f"idle {idle:,} connections",
                 ["--scenario", "idle", "--connections", str(idle), "--keepalive", "5",
                  "--ramp", str(args.ramp)], metric="rss"),
    ]
    for scenario in all_scenarios:
        if scenario.key != "idle":
            scenario.args = scenario.args + base
    if args.scenarios:
        wanted = set(args.scenarios.split(","))
        unknown = wanted - {s.key for s in all_scenarios}
        if unknown:
            sys.exit(f"compare: unknown scenario(s) {', '.join(sorted(unknown))}")
        all_scenarios = [s for s in all_scenarios if s.key in wanted]
    return all_scenarios


def brokers_for(scenario, args):
    brokers = [Broker(f"tern-w{w}", f"Tern {w} worker{'s' if w > 1 else ''}", "tern", w)
               for w in args.workers]
    brokers.append(Broker("mosquitto", "Mosquitto", "mosquitto"))
    if scenario.nodelay_variant:
        brokers.append(Broker("mosquitto-nodelay", "Mosquitto nodelay", "mosquitto", nodelay=True))
    return brokers


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_for_port(port, process, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class BrokerProcess:
    """One broker run: config written to its own directory, started, stopped."""

    def __init__(self, broker, args, rundir):
        self.broker = broker
        self.port = free_port()
        self.rundir = rundir
        rundir.mkdir(parents=True, exist_ok=True)
        self.log_path = rundir / "broker.log"
        self.command = self._command(args)
        self.process = None

    def _command(self, args):
        prefix = ["taskset", "-c", "0"] if args.pin else []
        if self.broker.kind == "mosquitto":
            config = self.rundir / "mosquitto.conf"
            lines = [f"listener {self.port} {HOST}", "allow_anonymous true", "persistence false",
                     "sys_interval 0", f"max_queued_messages {QUEUE_DEPTH}",
                     f"max_inflight_messages {INFLIGHT}"]
            if self.broker.nodelay:
                lines.append("set_tcp_nodelay true")
            config.write_text("\n".join(lines) + "\n")
            return prefix + [args.mosquitto, "-c", str(config)]
        config = self.rundir / "tern.toml"
        config.write_text(
            "[broker]\nsys_interval = 0\n\n"
            f"[limits]\nmax_queued_messages = {QUEUE_DEPTH}\nmax_inflight = {INFLIGHT}\n\n"
            f"[storage]\ndata_dir = \"{self.rundir / 'data'}\"\n"
            f"durability = \"{args.tern_durability}\"\n")
        return prefix + [args.tern, "-c", str(config), "--listen", f"{HOST}:{self.port}",
                         "--workers", str(self.broker.workers), "--log-level", "warn"]

    def start(self):
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=self.rundir)
        if not wait_for_port(self.port, self.process):
            return f"did not start: {self.exit_text()}; log: {self.log_tail()}"
        return ""

    def exit_text(self):
        code = self.process.poll()
        if code is None:
            return "still running"
        return f"killed by signal {-code}" if code < 0 else f"exit code {code}"

    def log_tail(self, lines=5):
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def stop(self):
        """Returns "" or what went wrong (crash before stop, bad exit status on SIGTERM)."""
        if self.process is None:
            return ""
        if self.process.poll() is not None:
            return f"crashed during the run ({self.exit_text()}); log: {self.log_tail()}"
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return "did not stop within 15 s of SIGTERM (killed)"
        if self.process.returncode != 0:
            return f"exited with {self.exit_text()} on SIGTERM; log: {self.log_tail()}"
        return ""


def run_one(scenario, broker, round_index, args, workdir):
    rundir = workdir / f"r{round_index}-{scenario.key}-{broker.key}"
    server = BrokerProcess(broker, args, rundir)
    result = RunResult(scenario.key, broker.key, round_index)
    bench = (["taskset", "-c", "1"] if args.pin else []) + [
        args.bench, "--port", str(server.port), "--duration", str(args.duration),
        "--threads", str(args.bench_threads), *scenario.args]
    result.commands = [shlex.join(server.command), shlex.join(bench) + " --pid BROKER_PID"]
    problem = server.start()
    if problem:
        result.problem = f"{broker.label} {problem}"
        server.stop()
        return result
    bench.extend(["--pid", str(server.process.pid)])
    timeout = args.duration + 120
    try:
        completed = subprocess.run(bench, capture_output=True, text=True, timeout=timeout)
        (rundir / "bench.stderr").write_text(completed.stderr)
        (rundir / "bench.stdout").write_text(completed.stdout)
        result.exit_code = completed.returncode
        last = completed.stdout.strip().splitlines()[-1:] or [""]
        if last[0].startswith("{"):
            result.report = json.loads(last[0])
        elif completed.returncode != 0:
            result.problem = f"tern-bench exit {completed.returncode}: {completed.stderr.strip()[-300:]}"
    except subprocess.TimeoutExpired:
        result.problem = f"tern-bench did not finish within {timeout} s"
    stop_problem = server.stop()
    if stop_problem:
        result.problem = "; ".join(p for p in (result.problem, f"{broker.label} {stop_problem}") if p)
    return result


def metric_value(result, metric):
    report = result.report
    if report is None:
        return None
    if metric == "rate":
        return report["rate_received"]
    if metric == "p99":
        return report["latency_us"]["p99"] if report["received"] > 0 else None
    return report.get("broker_rss_per_conn_bytes")


def fmt_metric(value, metric):
    if value is None:
        return "–"
    if metric == "rate":
        return f"{value / 1e6:.2f}M/s" if value >= 1e6 else f"{value / 1e3:.1f}k/s"
    if metric == "p99":
        return f"{value / 1000:.2f} ms" if value >= 1000 else f"{value:.0f} µs"
    return f"{value / 1024:.1f} KiB"


METRIC_NAMES = {"rate": "delivered msg/s", "p99": "p99 latency (p50)", "rss": "RSS per conn"}


def summarize(scenario, broker, results):
    runs = [r for r in results if r.scenario == scenario.key and r.broker == broker.key]
    values = [v for v in (metric_value(r, scenario.metric) for r in runs) if v is not None]
    reports = [r.report for r in runs if r.report]
    median = lambda xs: statistics.median(xs) if xs else None  # noqa: E731
    row = {
        "runs": len(runs),
        "values": values,
        "median": median(values),
        "min": min(values) if values else None,
        "max": max(values) if values else None,
        "broker_cpu": median([r["broker_cpu_pct"] for r in reports
                              if r.get("broker_cpu_pct") is not None]),
        "broker_rss": max([r["broker_peak_rss_kb"] for r in reports
                           if r.get("broker_peak_rss_kb") is not None], default=None),
        "bench_cpu": median([r["bench_cpu_pct"] for r in reports]),
        "loss": sum(r["loss"] for r in reports),
        "dup_reorder": sum(r["duplicates"] + r["reordered"] for r in reports),
        "errors": sum(r["errors"] for r in reports) + sum(1 for r in runs if r.problem),
        "p50": median([r["latency_us"]["p50"] for r in reports if r["received"] > 0]),
        "connect_s": median([r["connect_s"] for r in reports]),
    }
    return row


def ratio(tern_row, mosquitto_row):
    if not tern_row or not mosquitto_row or not tern_row["median"] or not mosquitto_row["median"]:
        return None
    return tern_row["median"] / mosquitto_row["median"]


def build_table(all_scenarios, results, args):
    """Rows of cells, shared by the terminal and the markdown output."""
    header = ["Scenario", "Broker", "Metric", "Median", "Min–max", "Tern/Mosq",
              "Broker CPU", "Broker peak RSS", "tern-bench CPU", "Loss", "Errors"]
    rows = []
    for scenario in all_scenarios:
        brokers = brokers_for(scenario, args)
        summary = {b.key: summarize(scenario, b, results) for b in brokers}
        for broker in brokers:
            row = summary[broker.key]
            cmp = ratio(row, summary["mosquitto"]) if broker.kind == "tern" else None
            cmp_text = f"{cmp:.2f}×" if cmp is not None else ""
            nodelay = summary.get("mosquitto-nodelay")
            if broker.kind == "tern" and nodelay and ratio(row, nodelay) is not None:
                cmp_text += f" ({ratio(row, nodelay):.2f}× vs nodelay)"
            median = fmt_metric(row["median"], scenario.metric)
            if scenario.metric == "p99" and row["p50"] is not None:
                median += f" ({fmt_metric(row['p50'], 'p99')})"
            if scenario.metric == "rss" and row["connect_s"] is not None:
                median += f", ramp {row['connect_s']:.1f} s"
            spread = (f"{fmt_metric(row['min'], scenario.metric)}–"
                      f"{fmt_metric(row['max'], scenario.metric)}") if row["values"] else "–"
            rows.append([
                scenario.label, broker.label, METRIC_NAMES[scenario.metric], median, spread,
                cmp_text,
                f"{row['broker_cpu']:.0f}%" if row["broker_cpu"] is not None else "–",
                f"{row['broker_rss'] / 1024:.1f} MiB" if row["broker_rss"] else "–",
                f"{row['bench_cpu']:.0f}%" if row["bench_cpu"] is not None else "–",
                f"{row['loss']:,}" + (f" (+{row['dup_reorder']} dup/reord)"
                                      if row["dup_reorder"] else ""),
                str(row["errors"]),
            ])
    return header, rows


def print_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    for line in [header] + rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())


def problems(results):
    seen = []
    for r in results:
        text = r.problem
        if not text and r.report and r.report["errors"]:
            text = "tern-bench errors: " + "; ".join(r.report["first_errors"][:3])
        if text:
            seen.append((r, text))
    return seen


def markdown(header, rows, results, args, started):
    out = ["# Tern vs Mosquitto (tern-bench)", ""]
    out.append(f"Run {started:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
               f"({cpu_model()}); {args.rounds} round(s) × {args.duration} s per run, brokers "
               f"alternating; {'open loop' if args.open_loop else f'closed loop, window {args.window}'}"
               f"; generator threads {args.bench_threads}"
               f"{'; pinned: broker on CPU 0, tern-bench on CPU 1' if args.pin else ''}.")
    out.append(f"Tern: `{args.tern}` ({version([args.tern, '--version'])}, durability "
               f"{args.tern_durability}); Mosquitto: {version([args.mosquitto, '-h'])}. Both "
               f"brokers: per-client queue {QUEUE_DEPTH:,}, in-flight window {INFLIGHT}, $SYS off, "
               "no persistence.")
    out.append("Rates are messages delivered to subscribers per second; Tern/Mosq is the ratio of "
               "medians (for latency and RSS, lower is better). Broker CPU is % of one core "
               "(/proc utime+stime); peak RSS is VmHWM of the run's fresh broker.")
    out.append("")
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        out.append("| " + " | ".join(str(c) for c in row) + " |")
    trouble = problems(results)
    if trouble:
        out += ["", "## Problems", ""]
        for r, text in trouble:
            out.append(f"- round {r.round}, {r.scenario}, {r.broker}: {text}")
            out.append(f"  - reproduce: `{r.commands[0]}` then `{r.commands[1]}`")
    return "\n".join(out) + "\n"


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def version(command):
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=5)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown version"


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="compare.sh", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Scenarios: fanin-q0 fanin-q1 fanout pairs-q0 pairs-q1 pairs-1k pairs-64k latency idle")
    parser.add_argument("--tern", default=str(REPO / "build/bin/tern"), help="tern binary")
    parser.add_argument("--bench", default=str(REPO / "build/bin/tern-bench"),
                        help="tern-bench binary")
    parser.add_argument("--mosquitto", default=shutil.which("mosquitto") or "/usr/sbin/mosquitto")
    parser.add_argument("--rounds", type=int, default=3, help="runs per scenario and broker")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per run")
    parser.add_argument("--window", type=int, default=1000,
                        help="closed loop: messages in flight per publisher")
    parser.add_argument("--window-bytes", type=int, default=4 * KIB * KIB,
                        help="in-flight payload cap per publisher for the 64 KiB scenario")
    parser.add_argument("--open-loop", action="store_true", help="publish as fast as possible")
    parser.add_argument("--workers", default="1,2", help="Tern worker counts to run, e.g. 1,2")
    parser.add_argument("--bench-threads", type=int, default=1, choices=(1, 2),
                        help="tern-bench threads")
    parser.add_argument("--pin", action="store_true",
                        help="broker on CPU 0 (taskset), tern-bench on CPU 1, Tern 1 worker only")
    parser.add_argument("--idle-connections", type=int, default=10_000)
    parser.add_argument("--idle-19000", action="store_true",
                        help="idle scenario with 19,000 connections (needs ulimit -n 20000)")
    parser.add_argument("--ramp", type=int, default=5000, help="idle: connections per second")
    parser.add_argument("--tern-durability", default="memory", choices=("memory", "async", "sync"),
                        help="Tern storage durability (memory matches mosquitto persistence false)")
    parser.add_argument("--scenarios", help="comma-separated subset of the scenarios")
    parser.add_argument("--markdown", metavar="FILE", help="write the summary as markdown")
    parser.add_argument("--json", metavar="FILE", help="write every run's report, one per line")
    parser.add_argument("--workdir", help="configs and logs (default: a new temporary directory)")
    args = parser.parse_args(argv)
    if args.idle_19000:
        args.idle_connections = 19_000
    args.workers = [1] if args.pin else [int(w) for w in args.workers.split(",") if w]
    if args.rounds < 1 or args.duration <= 0 or not args.workers:
        parser.error("--rounds, --duration and --workers must be positive")
    for path in (args.tern, args.bench, args.mosquitto):
        if not os.access(path, os.X_OK):
            parser.error(f"{path} is not an executable")
    return args


def main(argv):
    args = parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="tern-compare-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    all_scenarios = scenarios(args)
    print(f"compare: logs and configs in {workdir}", file=sys.stderr)
    results = []
    for round_index in range(1, args.rounds + 1):
        for scenario in all_scenarios:
            for broker in brokers_for(scenario, args):
                result = run_one(scenario, broker, round_index, args, workdir)
                results.append(result)
                value = metric_value(result, scenario.metric)
                report = result.report or {}
                print(f"[round {round_index}/{args.rounds}] {scenario.label:28} {broker.label:18} "
                      f"{fmt_metric(value, scenario.metric):>12}  broker cpu "
                      f"{report.get('broker_cpu_pct') or 0:.0f}%  loss {report.get('loss', '–')}"
                      f"{'  PROBLEM: ' + result.problem if result.problem else ''}",
                      file=sys.stderr, flush=True)
    header, rows = build_table(all_scenarios, results, args)
    print_table(header, rows)
    for r, text in problems(results):
        print(f"problem: round {r.round} {r.scenario} {r.broker}: {text}\n"
              f"  reproduce: {r.commands[0]}\n             {r.commands[1]}")
    if args.markdown:
        Path(args.markdown).write_text(markdown(header, rows, results, args, started))
    if args.json:
        with open(args.json, "w") as out:
            for r in results:
                out.write(json.dumps({"round": r.round, "scenario": r.scenario,
                                      "broker": r.broker, "problem": r.problem,
                                      "report": r.report}) + "\n")
    return 1 if problems(results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
