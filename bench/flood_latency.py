#!/usr/bin/python3
"""Does one flooding client starve the others? p99 latency of a quiet client with and without a flood.

For each broker (Tern with each worker count, then Mosquitto, alternating inside every round) a
fresh broker is started and measured twice with tern-bench:

  quiet   a publisher/subscriber pair at a fixed rate (default 100 msg/s, QoS 0, 64 bytes):
          `tern-bench --scenario latency --pairs 1 --rate R --topic-prefix quiet`
  flooded the same, while another client publishes as fast as the broker takes it on another
          topic: `tern-bench --scenario publish --publishers 1 --open-loop --topic-prefix flood`

It prints per broker the medians over the rounds of the quiet client's p50 and p99 alone and
under the flood, the flooded/alone p99 ratio (target: within 2x) and the flood's rate. Needs
tern, tern-bench (build/bin) and, for the reference, Debian's mosquitto.

  bench/flood_latency.py                         # 3 rounds, Tern 1 and 2 workers + Mosquitto
  bench/flood_latency.py --rounds 5 --duration 10 --workers 1 --no-mosquitto
  bench/flood_latency.py --flood-idle            # the flood generator takes only spare CPU
  bench/flood_latency.py --rt-client             # as root: the quiet pair real-time
  bench/flood_latency.py --rt                    # as root: broker and quiet pair real-time

On a 2-core machine the flood generator, the broker and the quiet pair share two cores: with
all three at normal priority the quiet pair's own wake-ups wait behind the generator's busy
thread, which a flooding device on another host would never cause. --flood-idle runs the
generator as SCHED_IDLE (it still floods at full speed on the core the others leave, and needs
no privilege); --rt-client makes the quiet pair, the measuring instrument, real-time and leaves
the broker and the generator at normal priority, competing. Both take the generator's CPU
out of the quiet pair's latency and leave the broker's behaviour in it.
"""
import argparse
import json
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import REPO, Broker, BrokerProcess  # noqa: E402  (same directory)

WARMUP_S = 1.5  # the flood runs this long before the quiet pair starts


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tern", default=str(REPO / "build" / "bin" / "tern"))
    parser.add_argument("--bench", default=str(REPO / "build" / "bin" / "tern-bench"))
    parser.add_argument("--mosquitto", default=shutil.which("mosquitto") or "/usr/sbin/mosquitto")
    parser.add_argument("--no-mosquitto", action="store_true", help="Tern only")
    parser.add_argument("--workers", default="1,2", help="Tern worker counts (default 1,2)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds of quiet traffic per measurement (default 10)")
    parser.add_argument("--rate", type=float, default=100.0,
                        help="quiet pair's messages per second (default 100)")
    parser.add_argument("--qos", type=int, default=0, choices=(0, 1, 2), help="quiet pair's QoS")
    parser.add_argument("--payload", type=int, default=64)
    parser.add_argument("--flood-payload", type=int, default=64)
    parser.add_argument("--pin", action="store_true",
                        help="broker on CPU 0, tern-bench processes on CPU 1")
    parser.add_argument("--rt", action="store_true",
                        help="run the broker (SCHED_FIFO 5) and the quiet pair (SCHED_FIFO 10) "
                             "with real-time priority (root): on a shared machine, takes the "
                             "other processes' CPU use out of the measurement")
    parser.add_argument("--rt-client", action="store_true",
                        help="run only the quiet pair real-time (SCHED_FIFO 10, root); the "
                             "broker and the flood generator stay at normal priority")
    parser.add_argument("--flood-idle", action="store_true",
                        help="run the flood generator as SCHED_IDLE: it uses only the CPU the "
                             "broker and the quiet pair leave, as a device on another host would")
    parser.add_argument("--keep", action="store_true", help="keep the run directories")
    args = parser.parse_args()
    args.workers = [int(w) for w in args.workers.split(",") if w]
    args.tern_durability = "memory"  # what compare.BrokerProcess reads
    for path in [args.tern, args.bench] + ([] if args.no_mosquitto else [args.mosquitto]):
        if not Path(path).exists():
            sys.exit(f"flood_latency: {path} not found (build with ninja, or pass its path)")
    return args


def bench_command(args, port, *scenario, quiet=False):
    prefix = ["taskset", "-c", "1"] if args.pin else []
    if quiet and (args.rt or args.rt_client):
        prefix += ["chrt", "-f", "10"]
    if not quiet and args.flood_idle:
        prefix += ["chrt", "-i", "0"]
    return prefix + [args.bench, "--port", str(port), "--no-progress", *scenario]


def last_json(stdout):
    lines = stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        raise RuntimeError("tern-bench printed no report: " + stdout[-300:])
    return json.loads(lines[-1])


def quiet_command(args, port):
    return bench_command(args, port, "--scenario", "latency", "--pairs", "1", "--rate",
                         str(args.rate), "--qos", str(args.qos), "--payload", str(args.payload),
                         "--duration", str(args.duration), "--topic-prefix", "quiet",
                         quiet=True)


def flood_command(args, port):
    duration = WARMUP_S + args.duration + 5  # outlives the quiet run; stopped when it ends
    return bench_command(args, port, "--scenario", "publish", "--publishers", "1", "--open-loop",
                         "--payload", str(args.flood_payload), "--duration", str(duration),
                         "--drain-timeout", "0", "--topic-prefix", "flood")


def measure(broker, args, rundir):
    """Returns {"quiet": report, "flooded": report, "flood": report} for one fresh broker."""
    server = BrokerProcess(broker, args, rundir)
    if args.rt:
        server.command = ["chrt", "-f", "5"] + server.command
    problem = server.start()
    if problem:
        raise RuntimeError(f"{broker.label} {problem}")
    try:
        quiet = last_json(subprocess.run(quiet_command(args, server.port), capture_output=True,
                                         text=True, timeout=args.duration + 60).stdout)
        flood = subprocess.Popen(flood_command(args, server.port), stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
        time.sleep(WARMUP_S)
        flooded = last_json(subprocess.run(quiet_command(args, server.port), capture_output=True,
                                           text=True, timeout=args.duration + 60).stdout)
        flood_stdout, _ = flood.communicate(timeout=WARMUP_S + args.duration + 60)
        return {"quiet": quiet, "flooded": flooded, "flood": last_json(flood_stdout)}
    finally:
        stop_problem = server.stop()
        if stop_problem:
            print(f"flood_latency: {broker.label} {stop_problem}", file=sys.stderr)


def fmt_us(value):
    return f"{value / 1000:.2f} ms" if value >= 1000 else f"{value:.0f} µs"


def main():
    args = parse_args()
    brokers = [Broker(f"tern-w{w}", f"Tern {w} worker{'s' if w > 1 else ''}", "tern", w)
               for w in args.workers]
    if not args.no_mosquitto:
        brokers.append(Broker("mosquitto", "Mosquitto", "mosquitto"))
    workdir = Path(tempfile.mkdtemp(prefix="tern-flood-"))
    if args.rt:
        print("broker: chrt -f 5 BROKER ...")
    else:
        print("broker: normal priority")
    print("quiet: " + shlex.join(quiet_command(args, "PORT")))
    print("flood: " + shlex.join(flood_command(args, "PORT")))
    results = {b.key: [] for b in brokers}
    for round_index in range(1, args.rounds + 1):
        for broker in brokers:
            run = measure(broker, args, workdir / f"r{round_index}-{broker.key}")
            results[broker.key].append(run)
            q, f = run["quiet"]["latency_us"], run["flooded"]["latency_us"]
            print(f"round {round_index} {broker.label:16} alone p50 {fmt_us(q['p50'])} p99 "
                  f"{fmt_us(q['p99'])} | flooded p50 {fmt_us(f['p50'])} p99 {fmt_us(f['p99'])} "
                  f"(loss {run['flooded']['loss']}) | flood "
                  f"{run['flood']['rate_sent'] / 1e6:.2f}M msg/s", flush=True)
    print()
    print(f"| Broker | alone p50 | alone p99 | flooded p50 | flooded p99 | p99 ratio "
          f"(range) | flood msg/s |")
    print("|---|---|---|---|---|---|---|")
    median = statistics.median
    for broker in brokers:
        runs = results[broker.key]
        alone99 = median(r["quiet"]["latency_us"]["p99"] for r in runs)
        flood99 = median(r["flooded"]["latency_us"]["p99"] for r in runs)
        ratios = [r["flooded"]["latency_us"]["p99"] / r["quiet"]["latency_us"]["p99"]
                  for r in runs]
        print(f"| {broker.label} "
              f"| {fmt_us(median(r['quiet']['latency_us']['p50'] for r in runs))} "
              f"| {fmt_us(alone99)} "
              f"| {fmt_us(median(r['flooded']['latency_us']['p50'] for r in runs))} "
              f"| {fmt_us(flood99)} "
              f"| {flood99 / alone99:.2f}× ({min(ratios):.2f}–{max(ratios):.2f}) "
              f"| {median(r['flood']['rate_sent'] for r in runs) / 1e6:.2f}M |")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"\nrun directories: {workdir}")


if __name__ == "__main__":
    main()
