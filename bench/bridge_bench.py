#!/usr/bin/python3
"""The bridge benchmark: SSE and /ws clients of a real tern fed by MQTT devices (tern-bridge-bench).

For each scenario a fresh tern is started with [bridge] enabled on free 127.0.0.1 ports, then
tern-bridge-bench runs against it with --pid (broker CPU and memory from /proc):

  issue     the issue's case: 1,000 SSE + 1,000 WebSocket clients all on devices/#, 1,000
            devices publishing 10,000 msg/s in total (20M deliveries/s asked for)
  conflate  the same, the SSE clients asking ?conflate=MS (/ws has no conflation)
  fanout    the same 2,000 clients, each on devices/<group>/+/telemetry: 100 groups, so each
            client sees 1% of the devices (200,000 deliveries/s)
  idle      2,000 clients connected, no traffic: broker memory per client
  idle-sse  idle with the SSE clients only; idle-ws: with the WebSocket clients only

It prints one table row per scenario and, with --json FILE, writes the tool's JSON lines. Each
run lasts --duration seconds of publishing plus connecting, settling and draining (about
duration + 5 s). The machine's load average is printed with every row: on a shared machine the
broker gets only its share of the cores, which the latencies reflect.

  bench/bridge_bench.py                                     # issue, conflate, fanout, idle: 10 s each
  bench/bridge_bench.py --scenarios fanout,idle --duration 5
  bench/bridge_bench.py --tern build/bin/tern --bench build/bin/tern-bridge-bench --workers 2
  bench/bridge_bench.py --nice -10                          # root, on a busy machine
"""
import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import HOST, REPO, free_port, wait_for_port  # noqa: E402  (same directory)

SCENARIOS = ("issue", "conflate", "fanout", "idle", "idle-sse", "idle-ws")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tern", default=str(REPO / "build" / "bin" / "tern"))
    parser.add_argument("--bench", default=str(REPO / "build" / "bin" / "tern-bridge-bench"))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS[:4]),
                        help="comma-separated, from: " + ", ".join(SCENARIOS))
    parser.add_argument("--workers", type=int, default=0, help="tern workers (0 = one per core)")
    parser.add_argument("--sse", type=int, default=1000)
    parser.add_argument("--ws", type=int, default=1000)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10000.0, help="msg/s over all devices")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of publishing")
    parser.add_argument("--drain", type=float, default=2.0)
    parser.add_argument("--groups", type=int, default=100, help="fanout: client groups")
    parser.add_argument("--conflate", type=int, default=1000, help="conflate: SSE ?conflate=MS")
    parser.add_argument("--max-client-buffer", type=int, default=0,
                        help="bridge.max_client_buffer (0 = tern's default, 1 MiB)")
    parser.add_argument("--client-loops", type=int, default=1)
    parser.add_argument("--nice", type=int, default=0,
                        help="run tern and tern-bridge-bench each in a session of its own "
                             "with this niceness, also given to its scheduler autogroup "
                             "(e.g. -10, as root: a larger share of a busy machine's CPU)")
    parser.add_argument("--json", help="append the JSON lines to this file")
    parser.add_argument("--keep", action="store_true", help="keep the run directories")
    args = parser.parse_args()
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        parser.error("unknown scenario(s): " + ", ".join(unknown))
    return args


def bench_flags(scenario, args):
    rate = 0 if scenario.startswith("idle") else args.rate
    sse = 0 if scenario == "idle-ws" else args.sse
    ws = 0 if scenario == "idle-sse" else args.ws
    flags = ["--sse", str(sse), "--ws", str(ws), "--devices", str(args.devices),
             "--rate", str(rate), "--duration", str(args.duration), "--drain",
             str(args.drain), "--client-loops", str(args.client_loops), "--no-progress"]
    if scenario == "conflate":
        flags += ["--conflate", str(args.conflate)]
    elif scenario == "fanout":
        flags += ["--groups", str(args.groups), "--filter", "devices/{group}/+/telemetry"]
    return flags


def prioritized(args):
    """preexec_fn for --nice: with sched_autogroup on, CPU is first shared between sessions'
    autogroups, so a plain nice value would only count inside the caller's own group."""
    if not args.nice:
        return None

    def prepare():
        os.setsid()
        os.nice(args.nice)
        autogroup = Path("/proc/self/autogroup")
        if autogroup.exists():
            autogroup.write_text(str(args.nice))

    return prepare


class Tern:
    """A tern with the bridge on, in its own directory."""

    def __init__(self, args, rundir):
        self.mqtt_port = free_port()
        self.http_port = free_port()
        rundir.mkdir(parents=True, exist_ok=True)
        bridge = ["[bridge]", "enabled = true", f'address = "{HOST}"', f"port = {self.http_port}"]
        if args.max_client_buffer:
            bridge.append(f"max_client_buffer = {args.max_client_buffer}")
        config = rundir / "tern.toml"
        config.write_text("\n".join([
            "[broker]", "sys_interval = 0", f"workers = {args.workers}", "",
            "[storage]", f'data_dir = "{rundir / "data"}"', "", *bridge]) + "\n")
        self.log_path = rundir / "tern.log"
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [args.tern, "-c", str(config), "--listen", f"{HOST}:{self.mqtt_port}",
                 "--log-level", "warn"], stdout=log, stderr=subprocess.STDOUT, cwd=rundir,
                preexec_fn=prioritized(args))
        if not (wait_for_port(self.mqtt_port, self.process)
                and wait_for_port(self.http_port, self.process)):
            raise RuntimeError("tern did not start: " + self.log_path.read_text()[-500:])

    def stop(self):
        if self.process.poll() is not None:
            return "crashed during the run (exit %s)" % self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return "did not stop within 20 s of SIGTERM (killed)"
        return ""


def load_average():
    return Path("/proc/loadavg").read_text().split()[0]


def run(scenario, args, workdir):
    tern = Tern(args, workdir / scenario)
    command = [args.bench, "--mqtt-port", str(tern.mqtt_port), "--http-port",
               str(tern.http_port), "--pid", str(tern.process.pid)] + bench_flags(scenario, args)
    print("$ " + shlex.join(command), file=sys.stderr, flush=True)
    load_before = load_average()
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=args.duration + args.drain + 120,
                              preexec_fn=prioritized(args))
    finally:
        stop_error = tern.stop()
    sys.stderr.write(done.stdout.rsplit("\n", 2)[0] + "\n")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError("tern-bridge-bench failed (%d): %s" % (done.returncode,
                                                                 done.stderr[-500:]))
    if done.returncode != 0:
        print("warning: tern-bridge-bench exited with %d (clients failed to connect?)"
              % done.returncode, file=sys.stderr)
    result = json.loads(lines[-1])
    result["scenario"] = scenario
    result["load_before"] = load_before
    result["load_after"] = load_average()
    result["broker_stop"] = stop_error
    return result


def pct(part, whole):
    return "%.1f%%" % (100.0 * part / whole) if whole else "-"


def row(result):
    measured = result["measured_s"] or 1.0
    cells = [result["scenario"]]
    for kind in ("sse", "ws"):
        k = result[kind]
        cells.append("%d/%d/%d" % (k["ready"], k["failed"], k["cut"]))
        cells.append("%s %.0f/s" % (pct(k["delivered"], k["expected"]), k["rate_delivered"]))
        cells.append("%.1f/%.1f" % (k["latency_p50_ms"], k["latency_p99_ms"]))
    cells.append("%.0f" % result["rate_sent"])
    cells.append("%.0f%%" % (100.0 * result["bench_cpu_s"] / measured))
    cells.append("%.0f%%" % (100.0 * result.get("broker_cpu_s", 0.0) / measured))
    cells.append("%.1f" % (result.get("rss_per_client_bytes", 0.0) / 1024.0))
    cells.append("%d" % (result.get("broker_hwm_kb", 0) // 1024))
    cells.append("%s→%s" % (result["load_before"], result["load_after"]))
    return cells


HEADER = ["scenario", "sse ok/fail/cut", "sse delivered", "sse p50/p99 ms", "ws ok/fail/cut",
          "ws delivered", "ws p50/p99 ms", "sent msg/s", "bench CPU", "broker CPU",
          "KiB/client", "peak RSS MiB", "load"]


def print_table(rows):
    widths = [max(len(str(r[i])) for r in [HEADER] + rows) for i in range(len(HEADER))]
    for r in [HEADER] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def main():
    args = parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="tern-bridge-bench-") as tmp:
        workdir = Path(tmp)
        for scenario in args.scenarios:
            result = run(scenario, args, workdir)
            if args.json:
                with open(args.json, "a") as out:
                    out.write(json.dumps(result) + "\n")
            rows.append(row(result))
            if result["broker_stop"]:
                print("warning: tern " + result["broker_stop"], file=sys.stderr)
        if args.keep:
            kept = Path(tempfile.mkdtemp(prefix="tern-bridge-bench-kept-"))
            subprocess.run(["cp", "-r", tmp + "/.", str(kept)], check=False)
            print("run directories kept in " + str(kept), file=sys.stderr)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
