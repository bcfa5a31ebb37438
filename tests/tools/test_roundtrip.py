"""tern-pub -> tern-sub round trips: protocol versions, QoS, payload sources, output modes."""
import json
import re
import time

import pytest

from toolsupport import pub, start_sub


@pytest.mark.parametrize("version", ["31", "311", "5", "mqttv311", "mqttv5"])
def test_round_trip_in_each_protocol_version(broker, topic, version):
    sub = start_sub(broker, "-V", version, "-t", topic, "-C", "1")
    pub(broker, "-V", version, "-t", topic, "-m", "hello")
    assert sub.finish() == (0, b"hello\n", "")


@pytest.mark.parametrize("version", ["311", "5"])
def test_each_qos_arrives_with_its_qos(broker, topic, version):
    sub = start_sub(broker, "-V", version, "-q", "2", "-t", topic, "-C", "3", "-F", "%q %p")
    for qos in ("0", "1", "2"):
        pub(broker, "-V", version, "-q", qos, "-t", topic, "-m", f"at{qos}")
    assert sub.finish() == (0, b"0 at0\n1 at1\n2 at2\n", "")


def test_line_mode_sends_one_message_per_line(broker, topic):
    sub = start_sub(broker, "-t", topic, "-C", "4", "-v")
    pub(broker, "-t", topic, "-l", "-q", "1", input=b"first\n\nthird line\nlast without newline")
    expected = (f"{topic} first\n{topic} (null)\n{topic} third line\n"
                f"{topic} last without newline\n").encode()
    assert sub.finish() == (0, expected, "")


def test_file_payload_is_sent_byte_for_byte(broker, topic, tmp_path):
    payload = bytes(range(256)) + b"\r\n\x00end"
    path = tmp_path / "payload.bin"
    path.write_bytes(payload)
    sub = start_sub(broker, "-t", topic, "-C", "1", "-F", "%l %x")
    pub(broker, "-t", topic, "-f", str(path))
    assert sub.finish() == (0, f"{len(payload)} {payload.hex()}\n".encode(), "")


def test_stdin_is_sent_as_one_message(broker, topic):
    sub = start_sub(broker, "-t", topic, "-C", "1", "-N")
    pub(broker, "-t", topic, "-s", input=b"line one\nline two\n")
    assert sub.finish() == (0, b"line one\nline two\n", "")


def test_null_message_has_zero_length(broker, topic):
    sub = start_sub(broker, "-t", topic, "-C", "1", "-F", "[%p] %l")
    pub(broker, "-t", topic, "-n")
    assert sub.finish() == (0, b"[] 0\n", "")


def test_retained_message_is_printed_with_retain_flag_and_skipped_with_R(broker, topic):
    pub(broker, "-t", topic, "-m", "kept", "-r", "-q", "1")
    try:
        sub = start_sub(broker, "-t", topic, "-C", "1", "-F", "%r %p")
        assert sub.finish() == (0, b"1 kept\n", "")
        # -R drops the stale (retained) copy but prints a live message.
        stale_skipper = start_sub(broker, "-t", topic, "-C", "1", "-R", "-F", "%r %p")
        pub(broker, "-t", topic, "-m", "live")
        assert stale_skipper.finish() == (0, b"0 live\n", "")
    finally:
        pub(broker, "-t", topic, "-n", "-r", "-q", "1")
    # A zero-length retained message removed it: nothing is printed before -W expires.
    sub = start_sub(broker, "-t", topic, "-W", "1")
    code, out, _ = sub.finish()
    assert (code, out) == (27, b"")


def test_retained_only_exits_at_the_first_live_message(broker, topic):
    pub(broker, "-t", topic, "-m", "old", "-r", "-q", "1")
    try:
        sub = start_sub(broker, "-t", topic, "--retained-only", "-v")
        pub(broker, "-t", topic, "-m", "new")
        assert sub.finish() == (0, f"{topic} old\n".encode(), "")
    finally:
        pub(broker, "-t", topic, "-n", "-r", "-q", "1")


def test_count_exits_zero_after_exactly_that_many_messages(broker, topic):
    sub = start_sub(broker, "-t", topic, "-C", "2", "-q", "1")
    pub(broker, "-t", topic, "-l", "-q", "1", input=b"1\n2\n3\n4\n")
    assert sub.finish() == (0, b"1\n2\n", "")


def test_timeout_exits_27_and_says_how_many_arrived(broker, topic):
    sub = start_sub(broker, "-t", topic, "-C", "5", "-W", "2")
    pub(broker, "-t", topic, "-m", "only one")
    code, out, err = sub.finish()
    elapsed = time.monotonic() - sub.started
    assert (code, out) == (27, b"only one\n")
    assert err == "tern-sub: timed out after 2 s (1 of 5 messages)\n"
    assert 1.9 <= elapsed < 6


def test_timeout_without_count_also_exits_27(broker, topic):
    sub = start_sub(broker, "-t", topic, "-W", "1")
    assert sub.finish() == (27, b"", "tern-sub: timed out after 1 s\n")


def test_verbose_prints_topic_space_payload(broker, topic):
    sub = start_sub(broker, "-t", f"{topic}/#", "-C", "2", "-v")
    pub(broker, "-t", f"{topic}/a", "-m", "payload with spaces")
    pub(broker, "-t", f"{topic}/b", "-n")
    assert sub.finish() == (0, f"{topic}/a payload with spaces\n{topic}/b (null)\n".encode(), "")


def test_no_eol_concatenates_payloads(broker, topic):
    sub = start_sub(broker, "-t", topic, "-C", "3", "-N")
    pub(broker, "-t", topic, "-l", "-q", "1", input=b"a\nb\nc\n")
    assert sub.finish() == (0, b"abc", "")


def test_format_fields_flags_and_escapes(broker, topic):
    fmt = r"%t|%p|%q|%r|%l|%x|%X|%%|\t|@@|%8l|%-4q|%05l|%.5t|%m"
    sub = start_sub(broker, "-t", topic, "-q", "1", "-C", "1", "-F", fmt)
    pub(broker, "-t", topic, "-m", "Hi!", "-q", "1")
    code, out, err = sub.finish()
    assert (code, err) == (0, "")
    fields = out.decode().split("|")
    assert fields[:14] == [topic, "Hi!", "1", "0", "3", "486921", "486921", "%", "\t", "@",
                           "       3", "1   ", "00003", topic[:5]]
    # A QoS 1 delivery carries a non-zero packet identifier (MQTT 5 §2.2.1).
    assert re.fullmatch(r"[1-9][0-9]{0,4}\n", fields[14])


def test_format_time_fields(broker, topic):
    sub = start_sub(broker, "-t", topic, "-C", "1", "-F", "%U %I @Y")
    before = time.time()
    pub(broker, "-t", topic, "-m", "x")
    code, out, err = sub.finish()
    assert (code, err) == (0, "")
    match = re.fullmatch(
        rb"(\d+)\.(\d{9}) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}) (\d{4})\n", out)
    assert match, out
    assert before - 1 <= int(match.group(1)) + int(match.group(2)) / 1e9 <= time.time() + 1
    assert match.group(4) == match.group(3)[:4]


def test_json_output_exact(broker, topic):
    sub = start_sub(broker, "-t", topic, "-q", "1", "-C", "2", "--json")
    pub(broker, "-t", topic, "-q", "1", "-m", 'héllo "quoted"\n')
    pub(broker, "-t", topic, "-q", "1", "-s", input=b"\xff\x00\x01")
    expected = (
        '{"topic":"%s","payload":"héllo \\"quoted\\"\\n","qos":1,"retain":false}\n'
        '{"topic":"%s","payload":"/wAB","encoding":"base64","qos":1,"retain":false}\n'
        % (topic, topic)).encode()
    assert sub.finish() == (0, expected, "")


def test_json_marks_retained_messages(broker, topic):
    pub(broker, "-t", topic, "-m", "r", "-r")
    try:
        sub = start_sub(broker, "-t", topic, "-C", "1", "--json")
        code, out, err = sub.finish()
        assert (code, err) == (0, "")
        assert json.loads(out) == {"topic": topic, "payload": "r", "qos": 0, "retain": True}
    finally:
        pub(broker, "-t", topic, "-n", "-r")


def test_filter_out_suppresses_matching_topics(broker, topic):
    sub = start_sub(broker, "-t", f"{topic}/#", "-T", f"{topic}/skip/#", "-T", f"{topic}/+/x",
                    "-C", "2", "-v")
    for suffix in ("skip/deep", "keep", "a/x", "skip", "last"):
        pub(broker, "-t", f"{topic}/{suffix}", "-m", suffix, "-q", "1")
    assert sub.finish() == (0, f"{topic}/keep keep\n{topic}/last last\n".encode(), "")


def test_several_topics_in_one_subscriber(broker, topic):
    sub = start_sub(broker, "-t", f"{topic}/a", "-t", f"{topic}/b", "-C", "2", "-v")
    pub(broker, "-t", f"{topic}/b", "-m", "2", "-q", "1")
    pub(broker, "-t", f"{topic}/a", "-m", "1", "-q", "1")
    assert sub.finish() == (0, f"{topic}/b 2\n{topic}/a 1\n".encode(), "")


def test_exit_after_subscribe(broker, topic):
    sub = start_sub(broker, "-t", topic, "-E", wait=False)
    code, out, err = sub.finish()
    assert (code, out, err) == (0, b"", "")
    assert b"subscribed to '" + topic.encode() + b"', granted QoS 0" in sub.stderr.data


def test_repeat_and_repeat_delay(broker, topic):
    sub = start_sub(broker, "-t", topic, "-C", "3")
    started = time.monotonic()
    pub(broker, "-t", topic, "-m", "again", "--repeat", "3", "--repeat-delay", "0.3")
    assert time.monotonic() - started >= 0.6
    assert sub.finish() == (0, b"again\nagain\nagain\n", "")


def test_rate_limits_messages_per_second(broker, topic):
    sub = start_sub(broker, "-t", topic, "-C", "10")
    started = time.monotonic()
    pub(broker, "-t", topic, "-l", "--rate", "20", input=b"".join(b"%d\n" % i for i in range(10)))
    elapsed = time.monotonic() - started
    # Ten messages at 20/s: nine gaps of 50 ms after the first token.
    assert 0.45 <= elapsed < 5
    assert sub.finish() == (0, b"".join(b"%d\n" % i for i in range(10)), "")


@pytest.mark.parametrize("window", ["1", "10"])
def test_many_qos1_messages_arrive_in_order(broker, topic, window):
    count = 300
    sub = start_sub(broker, "-t", topic, "-q", "1", "-C", str(count))
    lines = b"".join(b"m%d\n" % i for i in range(count))
    pub(broker, "-t", topic, "-q", "1", "-M", window, "-l", input=lines)
    assert sub.finish() == (0, lines, "")


def test_client_id_and_prefix(broker, topic):
    sub = start_sub(broker, "-t", topic, "-i", "fixed-id", "-E", wait=False)
    assert sub.finish()[0] == 0
    assert b"as 'fixed-id'" in sub.stderr.data
    sub = start_sub(broker, "-t", topic, "-I", "pre-", "-E", wait=False)
    assert sub.finish()[0] == 0
    assert re.search(rb"as 'pre-\d+'", sub.stderr.data)
