#!/usr/bin/python3
"""QoS 1 publish throughput into persistent sessions: Tern with storage durability memory, async
and sync against Debian's Mosquitto with persistence on and off (run it through
storage_compare.sh).

Every run gets a fresh broker on a free loopback port and a fresh data directory, runs one
tern-bench scenario with --persistent (subscribers keep Clean Session 0 sessions; publishers wait
for PUBACK, which Tern sends only once the message is stored), and stops the broker. Brokers
alternate inside each round, and each round starts one broker later than the previous one. The
headline figure is acknowledged publishes per second (tern-bench's rate_acked).

Group commits: Tern's store commits each group as one RocksDB write batch, i.e. one record of
the write-ahead log. While a Tern run with async or sync durability goes on, the WAL files are
opened as they appear (so that they can still be read after RocksDB deletes them) and their
records are counted between the first and the last of tern-bench's "running" progress lines:
commits per second, operations per commit and acknowledged messages per commit.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

sys.dont_write_bytecode = True  # compare.py is imported, not run: leave no __pycache__ behind
sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402  (bench/compare.py: broker processes, ports, formatting)

REPO = compare.REPO
HOST = compare.HOST
QUEUE_DEPTH = compare.QUEUE_DEPTH  # per-client queue on both brokers: never overflows here
INFLIGHT = compare.INFLIGHT        # outgoing QoS 1/2 window per client on both brokers
WAL_BLOCK = 32768                  # RocksDB log format: records never straddle these blocks


@dataclass
class Scenario:
    key: str
    label: str
    args: list


@dataclass
class Target:
    key: str
    label: str
    kind: str                # tern or mosquitto
    durability: str = ""     # tern: memory, async or sync
    persistence: bool = False  # mosquitto


TARGETS = [
    Target("tern-memory", "Tern memory", "tern", "memory"),
    Target("tern-async", "Tern async", "tern", "async"),
    Target("tern-sync", "Tern sync", "tern", "sync"),
    Target("mosq-persist", "Mosquitto persistence on", "mosquitto", persistence=True),
    Target("mosq", "Mosquitto persistence off", "mosquitto"),
]


@dataclass
class CommitStats:
    """WAL records (= Tern group commits) in the steady-state window of one run."""
    commits: int = 0
    ops: list = field(default_factory=list)  # operations per commit
    seconds: float = 0.0
    acked: int = 0        # publishes acknowledged in the same window
    window: str = ""      # "steady" (between progress lines) or "whole run"


@dataclass
class RunResult:
    scenario: str
    target: str
    round: int
    report: dict = None
    problem: str = ""
    commands: list = field(default_factory=list)
    commit: CommitStats = None


def scenarios(args):
    common = ["--qos", "1", "--persistent", "--window", str(args.window)]
    all_scenarios = [
        Scenario("pairs", f"{args.pairs} pairs QoS 1 persistent",
                 ["--scenario", "pairs", "--pairs", str(args.pairs)] + common),
        Scenario("fanin", f"fan-in {args.publishers}→1 QoS 1 persistent",
                 ["--scenario", "fan-in", "--publishers", str(args.publishers)] + common),
    ]
    wanted = set(args.scenarios.split(","))
    unknown = wanted - {s.key for s in all_scenarios}
    if unknown:
        sys.exit(f"storage_compare: unknown scenario(s) {', '.join(sorted(unknown))}")
    return [s for s in all_scenarios if s.key in wanted]


class StorageBroker(compare.BrokerProcess):
    """compare.py's broker process with the storage settings of one target."""

    def _command(self, args):
        target = self.broker
        if target.kind == "mosquitto":
            lines = [f"listener {self.port} {HOST}", "allow_anonymous true", "sys_interval 0",
                     f"max_queued_messages {QUEUE_DEPTH}", f"max_inflight_messages {INFLIGHT}"]
            if os.geteuid() == 0:
                lines.append("user root")  # or it drops to "mosquitto", which cannot write here
            if target.persistence:
                (self.rundir / "mosquitto-db").mkdir(exist_ok=True)
                # autosave_interval keeps its default (1800 s): Mosquitto writes its database
                # then and at shutdown, never per message.
                lines += ["persistence true",
                          f"persistence_location {self.rundir / 'mosquitto-db'}/"]
            else:
                lines.append("persistence false")
            config = self.rundir / "mosquitto.conf"
            config.write_text("\n".join(lines) + "\n")
            return [args.mosquitto, "-c", str(config)]
        self.data_dir = self.rundir / "data"
        config = self.rundir / "tern.toml"
        config.write_text(
            "[broker]\nsys_interval = 0\n\n"
            f"[limits]\nmax_queued_messages = {QUEUE_DEPTH}\nmax_inflight = {INFLIGHT}\n\n"
            f"[storage]\ndata_dir = \"{self.data_dir}\"\ndurability = \"{target.durability}\"\n"
            + (f"write_delay_ms = {args.write_delay}\n" if args.write_delay is not None else ""))
        return [args.tern, "-c", str(config), "--listen", f"{HOST}:{self.port}",
                "--workers", str(args.workers), "--log-level", "warn"]


def wal_records(data):
    """(start offset, operations) of every complete record in one RocksDB WAL file's bytes.

    Log format: 32 KiB blocks of physical records, each a 7-byte header (CRC32C, length, type;
    11 bytes with the log number for the recyclable types) and a fragment. A logical record is
    one FULL fragment or FIRST, MIDDLE..., LAST; its payload is a WriteBatch whose header is the
    sequence number (8 bytes) and the operation count (4 bytes, little endian)."""
    pos, start, pending = 0, None, None
    while pos + 7 <= len(data):
        left = WAL_BLOCK - pos % WAL_BLOCK
        if left < 7:
            pos += left  # the block's trailer is padding
            continue
        _, length, kind = struct.unpack_from("<IHB", data, pos)
        if kind == 0 and length == 0:
            break  # preallocated, not yet written
        header = 11 if 5 <= kind <= 8 else 7
        if pos + header + length > len(data):
            break  # being written
        fragment = data[pos + header:pos + header + length]
        base = kind - 4 if 5 <= kind <= 8 else kind
        if base == 1:
            start, pending = pos, bytes(fragment)
        elif base == 2:
            start, pending = pos, bytearray(fragment)
        elif base == 3 and pending is not None:
            pending += fragment
        elif base == 4 and pending is not None:
            pending += fragment
        pos += header + length
        if base in (1, 4) and pending is not None and len(pending) >= 12:
            yield start, pos, struct.unpack_from("<I", pending, 8)[0]
            pending = None


class WalWatcher:
    """Keeps every WAL file of a RocksDB directory open from its creation, so that the records
    of a log RocksDB deletes after a memtable flush can still be read at the end of the run."""

    def __init__(self, data_dir):
        self.data_dir = Path(data_dir)
        self.files = {}  # name -> open file
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _scan(self):
        with self.lock:
            try:
                names = [p.name for p in self.data_dir.glob("*.log")]
            except OSError:
                return
            for name in names:
                if name not in self.files:
                    try:
                        self.files[name] = open(self.data_dir / name, "rb")
                    except OSError:
                        pass  # deleted in between: it was too short-lived to matter

    def _run(self):
        while not self.stop_event.is_set():
            self._scan()
            self.stop_event.wait(0.02)

    def snapshot(self):
        """Bytes in each WAL file now."""
        self._scan()
        with self.lock:
            return {name: os.fstat(f.fileno()).st_size for name, f in self.files.items()}

    def commits_between(self, first, last):
        """Operations of each record that starts at or after `first` and ends by `last`."""
        ops = []
        with self.lock:
            for name, f in sorted(self.files.items()):
                f.seek(0)
                data = f.read(last.get(name, 0))
                ops += [count for start, _, count in wal_records(data)
                        if start >= first.get(name, 0)]
        return ops

    def close(self):
        self.stop_event.set()
        self.thread.join()
        for f in self.files.values():
            f.close()


PROGRESS = re.compile(r"^\[\s*([0-9.]+)s\] running\s.*\backed (\d+)")


def parse_progress(line):
    """(seconds, acked) of a tern-bench "running" progress line, else None."""
    match = PROGRESS.match(line)
    return (float(match.group(1)), int(match.group(2))) if match else None


def run_bench(command, rundir, watcher):
    """Runs tern-bench, watching its progress lines; returns (report, exit code, commit stats)."""
    stdout_path = rundir / "bench.stdout"
    with open(stdout_path, "w") as out, open(rundir / "bench.stderr", "w") as err_copy:
        start_snapshot = watcher.snapshot() if watcher else None
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, text=True)
        marks = []  # (seconds, acked, WAL snapshot) at each "running" line
        for line in process.stderr:
            err_copy.write(line)
            progress = parse_progress(line)
            if progress and watcher:
                marks.append((*progress, watcher.snapshot()))
        code = process.wait()
    report = None
    lines = stdout_path.read_text().strip().splitlines()
    if lines and lines[-1].startswith("{"):
        report = json.loads(lines[-1])
    commit = None
    if watcher:
        commit = CommitStats()
        if len(marks) >= 2:
            (t0, acked0, first), (t1, acked1, last) = marks[0], marks[-1]
            commit.window, commit.seconds, commit.acked = "steady", t1 - t0, acked1 - acked0
        else:
            # Too short for two progress lines: the whole run, connections and drain included.
            first, last = start_snapshot, watcher.snapshot()
            commit.window = "whole run"
            commit.seconds = report["elapsed_s"] if report else 0.0
            commit.acked = report["acked"] if report else 0
        commit.ops = watcher.commits_between(first, last)
        commit.commits = len(commit.ops)
    return report, code, commit


def run_one(scenario, target, round_index, args, workdir):
    rundir = workdir / f"r{round_index}-{scenario.key}-{target.key}"
    server = StorageBroker(target, args, rundir)
    result = RunResult(scenario.key, target.key, round_index)
    bench = [args.bench, "--port", str(server.port), "--duration", str(args.duration),
             "--threads", "1", *scenario.args]
    result.commands = [shlex.join(server.command), shlex.join(bench) + " --pid BROKER_PID"]
    problem = server.start()
    if problem:
        result.problem = f"{target.label} {problem}"
        server.stop()
        return result
    bench += ["--pid", str(server.process.pid)]
    durable = target.kind == "tern" and target.durability != "memory"
    watcher = WalWatcher(server.data_dir) if durable else None
    try:
        report, code, commit = run_bench(bench, rundir, watcher)
        result.report, result.commit = report, commit
        if report is None:
            result.problem = f"tern-bench exit {code}, no report: see {rundir}/bench.stderr"
    finally:
        if watcher:
            watcher.close()
    stop_problem = server.stop()
    if stop_problem:
        result.problem = "; ".join(p for p in (result.problem, f"{target.label} {stop_problem}")
                                   if p)
    if not args.keep_data:
        for path in (rundir / "data", rundir / "mosquitto-db"):
            shutil.rmtree(path, ignore_errors=True)
    return result


def median(values):
    return statistics.median(values) if values else None


def summarize(results, scenario, target):
    runs = [r for r in results if r.scenario == scenario.key and r.target == target.key]
    reports = [r.report for r in runs if r.report]
    acked = [r["rate_acked"] for r in reports]
    return {
        "acked": acked,
        "median": median(acked),
        "delivered": median([r["rate_received"] for r in reports]),
        "broker_cpu": median([r["broker_cpu_pct"] for r in reports
                              if r.get("broker_cpu_pct") is not None]),
        "broker_rss": max([r["broker_peak_rss_kb"] for r in reports
                           if r.get("broker_peak_rss_kb") is not None], default=None),
        "bench_cpu": median([r["bench_cpu_pct"] for r in reports]),
        "loss": sum(r["loss"] for r in reports),
        "dup": sum(r["duplicates"] + r["reordered"] + r["unexpected"] for r in reports),
        "errors": sum(r["errors"] for r in reports) + sum(1 for r in runs if r.problem),
        "commits": [r.commit for r in runs if r.commit and r.commit.commits],
    }


def fmt_rate(value):
    return compare.fmt_metric(value, "rate")


def ratio_text(a, b):
    if not a or not b:
        return "–"
    return f"{a / b:.2f}×"


def build_table(all_scenarios, summary):
    header = ["Scenario", "Broker", "Acked msg/s (median)", "Min–max", "Delivered msg/s",
              "vs Tern memory", "vs Mosq persist", "vs Mosq no persist", "Broker CPU",
              "Broker peak RSS", "tern-bench CPU", "Loss", "Errors"]
    rows = []
    for scenario in all_scenarios:
        s = summary[scenario.key]
        for target in TARGETS:
            row = s[target.key]
            spread = (f"{fmt_rate(min(row['acked']))}–{fmt_rate(max(row['acked']))}"
                      if row["acked"] else "–")
            rows.append([
                scenario.label, target.label, fmt_rate(row["median"]), spread,
                fmt_rate(row["delivered"]),
                ratio_text(row["median"], s["tern-memory"]["median"])
                if target.key not in ("tern-memory",) else "",
                ratio_text(row["median"], s["mosq-persist"]["median"])
                if target.key != "mosq-persist" else "",
                ratio_text(row["median"], s["mosq"]["median"]) if target.key != "mosq" else "",
                f"{row['broker_cpu']:.0f}%" if row["broker_cpu"] is not None else "–",
                f"{row['broker_rss'] / 1024:.1f} MiB" if row["broker_rss"] else "–",
                f"{row['bench_cpu']:.0f}%" if row["bench_cpu"] is not None else "–",
                f"{row['loss']:,}" + (f" (+{row['dup']} dup/reord/unexp)" if row["dup"] else ""),
                str(row["errors"]),
            ])
    return header, rows


def percentile(sorted_values, pct):
    if not sorted_values:
        return 0
    index = min(len(sorted_values) - 1, int(round(pct / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


def commit_table(all_scenarios, summary):
    header = ["Scenario", "Durability", "Window", "Commits/s", "Ops/commit avg", "p50", "p99",
              "Largest", "Acked msgs/commit avg", "Ops/acked msg"]
    rows = []
    for scenario in all_scenarios:
        for key in ("tern-async", "tern-sync"):
            stats = summary[scenario.key][key]["commits"]
            if not stats:
                rows.append([scenario.label, key[5:]] + ["–"] * (len(header) - 2))
                continue
            ops = sorted(op for c in stats for op in c.ops)
            commits = sum(c.commits for c in stats)
            seconds = sum(c.seconds for c in stats)
            acked = sum(c.acked for c in stats)
            windows = sorted({c.window for c in stats})
            rate = commits / seconds if seconds > 0 else None
            rows.append([
                scenario.label, key[5:], "/".join(windows),
                "–" if rate is None else f"{rate:,.1f}" if rate < 100 else f"{rate:,.0f}",
                f"{sum(ops) / commits:,.1f}", f"{percentile(ops, 50):,}",
                f"{percentile(ops, 99):,}", f"{ops[-1]:,}", f"{acked / commits:,.1f}",
                f"{sum(ops) / acked:.2f}" if acked else "–",
            ])
    return header, rows


def targets_text(all_scenarios, summary):
    lines = []
    for scenario in all_scenarios:
        s = summary[scenario.key]
        memory, asynchronous, synchronous = (s[k]["median"] for k in
                                             ("tern-memory", "tern-async", "tern-sync"))
        persist_on, persist_off = s["mosq-persist"]["median"], s["mosq"]["median"]

        def check(value, reference, goal):
            if not value or not reference:
                return "–"
            met = value / reference >= goal
            return f"{value / reference:.2f} ({'met' if met else 'MISSED'}, target ≥ {goal:.2f})"

        lines.append(f"{scenario.label}: async/memory {check(asynchronous, memory, 0.8)}; "
                     f"sync/memory {ratio_text(synchronous, memory)}; "
                     f"sync/Mosquitto persistence off {check(synchronous, persist_off, 1.0)}; "
                     f"vs Mosquitto persistence on: memory {ratio_text(memory, persist_on)}, "
                     f"async {ratio_text(asynchronous, persist_on)}, "
                     f"sync {ratio_text(synchronous, persist_on)}")
    return lines


def print_table(header, rows):
    compare.print_table(header, rows)


def describe(args, started, load_before, load_after, workdir):
    return [
        f"Run {started:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({compare.cpu_model()}); "
        f"{args.rounds} round(s) × {args.duration} s per run, brokers alternating (each round "
        f"starts one broker later); closed loop, window {args.window} per publisher (deliveries "
        f"and, with --persistent, PUBACKs); tern-bench 1 thread.",
        f"Load average before/after: {' '.join(f'{v:.2f}' for v in load_before)} / "
        f"{' '.join(f'{v:.2f}' for v in load_after)} — a shared machine: other work ran "
        "alongside, compare ratios within this run rather than absolute numbers.",
        f"Tern: `{args.tern}` ({compare.version([args.tern, '--version'])}), --workers "
        f"{args.workers}, a fresh data directory per run under {workdir} "
        f"({filesystem(workdir)}). Mosquitto: {compare.version([args.mosquitto, '-h'])}; "
        "persistence on = `persistence true`, default autosave_interval 1800 s (its database "
        "is written then and at shutdown, never per message). Both: per-client queue "
        f"{QUEUE_DEPTH:,}, in-flight window {INFLIGHT}, $SYS off.",
        "Acked msg/s: PUBACKs received per second (Tern sends PUBACK once the message is "
        "stored — async = RocksDB WAL write, sync = WAL write + fsync, group-committed — or "
        "acknowledged by its subscriber within storage.write_delay_ms, "
        + (f"{args.write_delay} ms here" if args.write_delay is not None else "default 50 ms")
        + "); Delivered: messages received by subscribers per second.",
    ]


def filesystem(path):
    try:
        out = subprocess.run(["df", "-PT", str(path)], capture_output=True, text=True, timeout=5)
        fields = out.stdout.strip().splitlines()[-1].split()
        return f"{fields[1]} on {fields[0]}"
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown filesystem"


def problems(results):
    seen = []
    for r in results:
        text = r.problem
        if not text and r.report and r.report["errors"]:
            text = "tern-bench errors: " + "; ".join(r.report["first_errors"][:3])
        if not text and r.report and r.report["acked"] != r.report["sent"]:
            text = f"{r.report['sent'] - r.report['acked']} PUBLISHes never acknowledged"
        if text:
            seen.append((r, text))
    return seen


def markdown(intro, tables, targets, results, command):
    out = ["# Storage: QoS 1 into persistent sessions (tern-bench --persistent)", ""]
    out += [f"Command: `{command}`", ""] + intro + [""]
    for header, rows in tables:
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join("---" for _ in header) + "|")
        out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        out.append("")
    out += ["Targets: " + line for line in targets]
    trouble = problems(results)
    if trouble:
        out += ["", "## Problems", ""]
        for r, text in trouble:
            out.append(f"- round {r.round}, {r.scenario}, {r.target}: {text}")
            out.append(f"  - reproduce: `{r.commands[0]}` then `{r.commands[1]}`")
    return "\n".join(out) + "\n"


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="storage_compare.sh", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Scenarios: pairs (N publisher/subscriber pairs) and fanin (P publishers -> 1 "
               "subscriber), both QoS 1 with --persistent subscribers.")
    parser.add_argument("--tern", default=str(REPO / "build/bin/tern"), help="tern binary")
    parser.add_argument("--bench", default=str(REPO / "build/bin/tern-bench"),
                        help="tern-bench binary")
    parser.add_argument("--mosquitto", default=shutil.which("mosquitto") or "/usr/sbin/mosquitto")
    parser.add_argument("--rounds", type=int, default=3, help="runs per scenario and broker")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per run")
    parser.add_argument("--quick", action="store_true",
                        help="1 round of 3 s (a smoke test: group commits over 1 s only)")
    parser.add_argument("--pairs", type=int, default=50, help="pairs scenario: pairs")
    parser.add_argument("--publishers", type=int, default=8, help="fan-in: publishers")
    parser.add_argument("--window", type=int, default=1000,
                        help="closed loop: messages in flight per publisher")
    parser.add_argument("--workers", type=int, default=2, help="Tern worker loops")
    parser.add_argument("--write-delay", type=int, metavar="MS",
                        help="Tern's storage.write_delay_ms (default: the broker's default)")
    parser.add_argument("--scenarios", default="pairs,fanin", help="comma-separated subset")
    parser.add_argument("--markdown", metavar="FILE", help="write the summary as markdown")
    parser.add_argument("--json", metavar="FILE", help="write every run's report, one per line")
    parser.add_argument("--workdir", help="configs and logs (default: a new temporary directory)")
    parser.add_argument("--keep-data", action="store_true",
                        help="keep each run's data directory (default: removed after the run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration = 1, 3.0
    if args.rounds < 1 or args.duration <= 0 or args.workers < 1:
        parser.error("--rounds, --duration and --workers must be positive")
    for path in (args.tern, args.bench, args.mosquitto):
        if not os.access(path, os.X_OK):
            parser.error(f"{path} is not an executable")
    return args


def main(argv):
    args = parse_args(argv)
    command = shlex.join(["bench/storage_compare.sh", *argv])
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="tern-storage-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    load_before = os.getloadavg()
    all_scenarios = scenarios(args)
    print(f"storage_compare: logs and configs in {workdir}", file=sys.stderr)
    results = []
    for round_index in range(1, args.rounds + 1):
        shift = (round_index - 1) % len(TARGETS)
        order = TARGETS[shift:] + TARGETS[:shift]
        for scenario in all_scenarios:
            for target in order:
                result = run_one(scenario, target, round_index, args, workdir)
                results.append(result)
                report = result.report or {}
                commit = result.commit
                commit_text = (f"  commits {commit.commits / commit.seconds:,.1f}/s, "
                               f"{sum(commit.ops) / commit.commits:.1f} ops each"
                               if commit and commit.commits and commit.seconds else "")
                print(f"[round {round_index}/{args.rounds}] {scenario.label:30} "
                      f"{target.label:26} acked {fmt_rate(report.get('rate_acked')):>9}  "
                      f"delivered {fmt_rate(report.get('rate_received')):>9}  broker cpu "
                      f"{report.get('broker_cpu_pct') or 0:.0f}%  tern-bench cpu "
                      f"{report.get('bench_cpu_pct') or 0:.0f}%{commit_text}"
                      f"{'  PROBLEM: ' + result.problem if result.problem else ''}",
                      file=sys.stderr, flush=True)
    load_after = os.getloadavg()
    summary = {s.key: {t.key: summarize(results, s, t) for t in TARGETS} for s in all_scenarios}
    intro = describe(args, started, load_before, load_after, workdir)
    tables = [build_table(all_scenarios, summary), commit_table(all_scenarios, summary)]
    targets = targets_text(all_scenarios, summary)
    print(f"Command: {command}")
    for line in intro:
        print(line)
    for header, rows in tables:
        print()
        print_table(header, rows)
    print()
    for line in targets:
        print("Targets: " + line)
    print("Group commits: one RocksDB WAL record per Tern group commit, counted between the "
          "first and last 'running' progress lines (steady state); ops = RocksDB operations "
          "(queue entry put + erase per message, session records).")
    for r, text in problems(results):
        print(f"problem: round {r.round} {r.scenario} {r.target}: {text}\n"
              f"  reproduce: {r.commands[0]}\n             {r.commands[1]}")
    if args.markdown:
        Path(args.markdown).write_text(markdown(intro, tables, targets, results, command))
    if args.json:
        with open(args.json, "w") as out:
            for r in results:
                commit = None
                if r.commit:
                    commit = {"commits": r.commit.commits, "seconds": r.commit.seconds,
                              "acked": r.commit.acked, "window": r.commit.window,
                              "ops_total": sum(r.commit.ops),
                              "ops_max": max(r.commit.ops, default=0)}
                out.write(json.dumps({"round": r.round, "scenario": r.scenario,
                                      "target": r.target, "problem": r.problem,
                                      "report": r.report, "commits": commit}) + "\n")
    return 1 if problems(results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
