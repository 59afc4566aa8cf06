#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/<target>/seed-*) from the
project's own example files and a few hand-made inputs. Run from the repository
root; idempotent. Inputs that once crashed a target are added by hand as
tests/fuzz/<target>/crash-<what> and are never rewritten here."""
import glob
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUZZ = os.path.join(ROOT, "tests", "fuzz")


def write(target, name, data):
    d = os.path.join(FUZZ, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def head_lines(data, n):
    return b"".join(data.splitlines(keepends=True)[:n])


ours = ["tests/data/histories/example.jsonl", "tests/data/histories/duplicate-push.jsonl",
        "tests/corpus/bit-flip-detected.jsonl", "tests/corpus/volatile-id-after-crash.jsonl"]
jepsen = sorted(glob.glob(os.path.join(ROOT, "tests/data/jepsen/*.jsonl")))

for p in ours:
    name = os.path.basename(p)
    write("history", name, head_lines(read(p), 60))
    for choice in (0, 6):
        write("check", "%d-%s" % (choice, name), bytes([choice]) + head_lines(read(p), 60))
for p in jepsen:
    name = os.path.basename(p)
    write("jepsen", name, head_lines(read(p), 60))
    write("check", "0-" + name, b"\x00" + head_lines(read(p), 60))
write("history", "deep", '{"v":1,"process":"p0","f":"publish","type":"invoke","value":' + "[" * 200 + "]" * 200 + "}\n")
write("jepsen", "deep", '{"process":0,"type":"invoke","f":"enqueue","value":' + "[" * 200 + "]" * 200 + "}\n")
write("check", "line1-bad", b"\x00{\"v\":1,\n")

for p in sorted(glob.glob(os.path.join(ROOT, "scenarios/*.json"))):
    write("scenario", os.path.basename(p), read(p))
for p in sorted(glob.glob(os.path.join(ROOT, "configs/explore-*.json"))):
    write("explore_config", os.path.basename(p), read(p))

for p in sorted(glob.glob(os.path.join(ROOT, "tests/data/histories/*.topology.json"))):
    write("topology", "0-" + os.path.basename(p), b"\x00" + read(p))
for p in sorted(glob.glob(os.path.join(ROOT, "configs/mqd*.json"))):
    write("topology", "1-" + os.path.basename(p), b"\x01" + read(p))
write("topology", "2-summary", b"\x02" + b'{"mqharness_sweep":1,"scenario":"default","first_seed":1,"last_seed":4,'
      b'"shard":0,"shards":1,"runs":4,"properties":{},"failing":[]}')

# WAL: raw segment bytes (flags even) and written scripts (flags odd).
write("wal", "raw-empty-segment", b"\x00MQWAL002")
write("wal", "raw-two-segments", b"\x00MQWAL002" + bytes(range(64)) + b"MQWAL002" + b"\xff" * 32)
for i, script in enumerate([bytes(range(0, 64, 3)), bytes(range(255, 0, -7)), b"\x01\x02\x03\x04" * 16]):
    write("wal", "written-%d" % i, b"\x01" + script)
    write("wal", "written-damaged-%d" % i, b"\x03" + script + b"\x80\x11")


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def chunk(conn, data):
    # header: connection in bits 0-1, kind 0 (bytes); then a length byte (<= 255).
    out = b""
    for k in range(0, len(data), 255):
        part = data[k:k + 255]
        out += bytes([conn & 3, len(part)]) + part
    return out


tick = bytes([2 << 2 | 5 << 4])  # time passes
write("resp", "ping", chunk(0, resp("PING")) + chunk(0, b"PING\r\n"))
write("resp", "send-fetch-ack",
      chunk(0, resp("SEND", "work", "1", "hello", "PRIORITY", "1")) +
      chunk(1, resp("FETCH", "w", "COUNT", "2", "BLOCK", "10")) + tick +
      chunk(1, resp("ACK", "w", "1")) + chunk(0, resp("QSTATS", "work")))
write("resp", "publish-nack",
      chunk(0, resp("PUBLISH", "all", "7", "x", "TTL", "5")) + chunk(2, resp("FETCH", "w")) +
      chunk(2, resp("NACK", "w", "7")) + tick + chunk(3, resp("FETCH", "d", "BLOCK", "1")) + tick +
      bytes([3 | 3 << 2]))
write("resp", "inline-and-errors", chunk(0, b"ECHO hi\r\nINFO\r\n*1\r\n$-5\r\n") + chunk(1, b"SEND work x y\r\n"))

# client: answers a server sends, as mqd writes them (docs/protocol.md).
write("client", "outcomes",
      b"+STORED\r\n+DUPLICATE\r\n-FULL queue 'work' is full\r\n-NOSPACE disk full\r\n"
      b"-UNAVAILABLE the broker is starting\r\n-NOTHELD message 7\r\n-SESSION old\r\n+OK\r\n-ERR no\r\n")
write("client", "fetch",
      b"*1\r\n*9\r\n$4\r\nwork\r\n$2\r\n12\r\n$2\r\nhi\r\n:2\r\n:1\r\n:1000\r\n:0\r\n:5\r\n:3\r\n"
      b"*0\r\n")
write("client", "pairs",
      b"*2\r\n*2\r\n$4\r\nwork\r\n$6\r\nstored\r\n*2\r\n$5\r\naudit\r\n$4\r\nfull\r\n"
      b"*4\r\n$4\r\nname\r\n$4\r\nwork\r\n$4\r\nsize\r\n:3\r\n")
write("client", "info", b"$21\r\n# Server\r\nversion:1\r\n\r\n:-1\r\n$-1\r\n")
