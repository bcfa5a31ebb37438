#!/usr/bin/python3
"""Speed regression check that does not depend on the machine's load: instructions per delivered
message, counted by callgrind, for small fixed workloads, compared with a committed reference.

Each scenario runs the broker (1 worker, memory storage) under callgrind twice, with a small and
a large message count, and divides the difference in instructions by the difference in
deliveries: start-up, connection set-up and shutdown cancel out. Fails when a scenario costs more
than --tolerance above its reference; a drop of as much says the reference should be refreshed
(--update rewrites it).

Usage: bench/callgrind_check.py --tern build/perf/bin/tern [--update] [--scenario NAME]
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

REFERENCE = Path(__file__).resolve().parent / "callgrind_reference.json"
PAYLOAD = b"x" * 64

# name: (publishers, subscribers per publisher, qos, small count, large count)
SCENARIOS = {
    "fanout_qos0": dict(publishers=1, subscribers=10, qos=0, small=300, large=1500),
    "pairs_qos1": dict(publishers=5, subscribers=1, qos=1, small=200, large=1000),
    "pairs_qos2": dict(publishers=2, subscribers=1, qos=2, small=100, large=500),
}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, process, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tern exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"tern did not listen on {port} within {timeout} s")


def connect(port, client_id, on_message=None):
    connected = threading.Event()
    client = mqtt.Client(client_id=client_id, clean_session=True, protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(20)
    client.max_queued_messages_set(0)
    client.on_connect = lambda c, u, f, rc: connected.set() if rc == 0 else None
    if on_message is not None:
        client.on_message = on_message
    client.connect("127.0.0.1", port, keepalive=600)
    client.loop_start()
    if not connected.wait(60):
        raise RuntimeError(f"{client_id}: no CONNACK within 60 s")
    return client


def drive(port, spec, count):
    """Publishes `count` messages per publisher and waits until every subscriber has them all."""
    expected = count * spec["publishers"] * spec["subscribers"]
    received = 0
    lock = threading.Lock()
    done = threading.Event()

    def on_message(_client, _userdata, _message):
        nonlocal received
        with lock:
            received += 1
            if received == expected:
                done.set()

    clients = []
    try:
        for publisher in range(spec["publishers"]):
            for index in range(spec["subscribers"]):
                subscriber = connect(port, f"cg-sub-{publisher}-{index}", on_message)
                subscribed = threading.Event()
                subscriber.on_subscribe = lambda c, u, mid, granted, e=subscribed: e.set()
                subscriber.subscribe(f"bench/{publisher}", qos=spec["qos"])
                if not subscribed.wait(60):
                    raise RuntimeError("no SUBACK within 60 s")
                clients.append(subscriber)
        publishers = [connect(port, f"cg-pub-{index}") for index in range(spec["publishers"])]
        clients += publishers
        for sequence in range(count):
            for index, publisher in enumerate(publishers):
                info = publisher.publish(f"bench/{index}", PAYLOAD, qos=spec["qos"])
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    raise RuntimeError(f"publish failed: {mqtt.error_string(info.rc)}")
        if not done.wait(300):
            raise RuntimeError(f"received {received} of {expected} messages within 300 s")
        return expected
    finally:
        for client in clients:
            client.disconnect()
            client.loop_stop()


def instructions(tern, spec, count, workdir):
    port = free_port()
    config = workdir / f"tern-{port}.toml"
    config.write_text(
        "[broker]\nworkers = 1\nsys_interval = 0\n"
        f'[[listeners]]\ntype = "mqtt"\naddress = "127.0.0.1"\nport = {port}\n'
        '[storage]\ndurability = "memory"\n'
    )
    output = workdir / f"callgrind-{port}.out"
    process = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={output}", tern, "-c",
         str(config), "--log-level", "warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, process)
        deliveries = drive(port, spec, count)
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=120)
    if process.returncode != 0:
        raise RuntimeError(f"tern under callgrind exited with {process.returncode}:\n"
                           + errors.decode(errors="replace")[-2000:])
    for line in output.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1]), deliveries
    raise RuntimeError(f"no instruction total in {output}")


def measure(tern, name, workdir):
    spec = SCENARIOS[name]
    small, small_deliveries = instructions(tern, spec, spec["small"], workdir)
    large, large_deliveries = instructions(tern, spec, spec["large"], workdir)
    return (large - small) / (large_deliveries - small_deliveries)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tern", required=True, help="a tern binary without sanitizers")
    parser.add_argument("--update", action="store_true", help="write the reference file")
    parser.add_argument("--tolerance", type=float, default=0.10, help="allowed rise (0.10 = 10%%)")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    args = parser.parse_args()

    reference = json.loads(REFERENCE.read_text()) if REFERENCE.exists() else {}
    names = args.scenario or list(SCENARIOS)
    failures = []
    results = {}
    with tempfile.TemporaryDirectory(prefix="tern-callgrind-") as directory:
        for name in names:
            value = measure(args.tern, name, Path(directory))
            results[name] = value
            known = reference.get(name, {}).get("instructions_per_delivery")
            if known is None:
                print(f"{name:14s} {value:10.0f} instructions/delivery (no reference)")
                if not args.update:
                    failures.append(f"{name}: no reference (run with --update)")
                continue
            ratio = value / known
            verdict = "ok"
            if ratio > 1 + args.tolerance:
                verdict = "REGRESSION"
                failures.append(f"{name}: {value:.0f} instructions per delivery, reference "
                                f"{known:.0f} ({ratio - 1:+.1%}, limit +{args.tolerance:.0%})")
            elif ratio < 1 - args.tolerance:
                verdict = "faster: refresh the reference with --update"
            print(f"{name:14s} {value:10.0f} instructions/delivery, reference {known:.0f} "
                  f"({ratio - 1:+.1%}) {verdict}")
    if args.update:
        for name, value in results.items():
            reference[name] = {"instructions_per_delivery": round(value)}
        REFERENCE.write_text(json.dumps(reference, indent=2, sort_keys=True) + "\n")
        print(f"wrote {REFERENCE}")
        return 0
    for failure in failures:
        print(f"callgrind check: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
