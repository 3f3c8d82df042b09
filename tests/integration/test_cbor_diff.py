"""Differential tests of vigil's CBOR codec against cbor2 and libcbor.

Seeded random documents (every major type, integers at every width
boundary, bignums, non-ASCII text, tags, simple values, floats of all
three widths including Infinity/NaN, and indefinite-length items written
by hand, since cbor2 only writes definite lengths) go through
build/interop/cbor_roundtrip:

  1. cbor2's encoding -> vigil decode + cbor_copy -> cbor2.loads gives the
     same value (NaN-aware, type-strict, map order kept);
  2. vigil's output -> libcbor load + serialize -> cbor2.loads: the same
     value again.  libcbor 0.8's cbor_load refuses two well-formed things,
     so documents with them skip this check: unassigned simple values such
     as f0 (PJK/libcbor#445) and tags 6..20 in their one-byte form c6..d4
     (PJK/libcbor#307); and its serializer drops the mantissa of subnormal
     half floats (f9 03ff comes back as f9 0200; fixed in 0.9,
     PJK/libcbor#208), which vigil writes for values below 2^-14;
  3. documents without maps: vigil's preferred serialization (indefinite
     made definite) == cbor2.dumps(value, canonical=True), byte for byte;
  4. vigilctl's diag and json of the same documents == the notation built
     here in Python from the document tree (json parsed and compared as
     values).

Everything runs as a few batch calls over a CBOR sequence of all
documents, so the whole module takes a few seconds.
"""
import base64
import io
import json
import math
import random
import struct
import subprocess
from decimal import Decimal

import cbor2
import pytest

from conftest import ROOT, binary

SEED = 20261123
DOCS = 600
ROUNDTRIP = ROOT / "build/interop/cbor_roundtrip"


def roundtrip_bin():
    if not ROUNDTRIP.exists():
        pytest.fail(f"{ROUNDTRIP} not built (make build/interop/cbor_roundtrip)")
    return ROUNDTRIP


def run(args, data, timeout=60):
    return subprocess.run(args, input=data, capture_output=True, timeout=timeout)


def loads_seq(data):
    """Items of a CBOR sequence and the bytes of each."""
    fp = io.BytesIO(data)
    dec = cbor2.CBORDecoder(fp)
    items = []
    while fp.tell() < len(data):
        start = fp.tell()
        value = dec.decode()
        items.append((value, data[start:fp.tell()]))
    return items


def same(a, b):
    """Type-strict equality; NaN equals NaN, -0.0 differs from 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb) and same(va, vb)
            for (ka, va), (kb, vb) in zip(a.items(), b.items()))
    if isinstance(a, cbor2.CBORTag):
        return a.tag == b.tag and same(a.value, b.value)
    return a == b


# ---- the document tree ----

def head(major, arg):
    if arg < 24:
        return bytes([major << 5 | arg])
    for ai, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if arg < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | ai]) + struct.pack(fmt, arg)
    raise ValueError(arg)


class Node:
    """kind: int, float, bytes, text, array, map, tag, simple (value is the
    Python value cbor2 decodes to); indef: chunk list for strings, True for
    containers; width: 2/4/8 for floats written by hand, else None."""

    def __init__(self, kind, value, children=(), indef=None, width=None, tag=None):
        self.kind, self.value, self.children = kind, value, list(children)
        self.indef, self.width, self.tag = indef, width, tag

    def encode(self):
        if self.kind == "float" and self.width:
            fmt = {2: ">e", 4: ">f", 8: ">d"}[self.width]
            return bytes([0xf8 + {2: 1, 4: 2, 8: 3}[self.width]]) + struct.pack(fmt, self.value)
        if self.kind in ("bytes", "text") and self.indef is not None:
            major = 2 if self.kind == "bytes" else 3
            return bytes([major << 5 | 31]) + b"".join(
                cbor2.dumps(c) for c in self.indef) + b"\xff"
        if self.kind in ("array", "map") and (self.indef or self.special()):
            major = 4 if self.kind == "array" else 5
            n = len(self.children) // (2 if self.kind == "map" else 1)
            start = bytes([major << 5 | 31]) if self.indef else head(major, n)
            return start + b"".join(c.encode() for c in self.children) + (
                b"\xff" if self.indef else b"")
        if self.kind == "tag" and self.special():
            return head(6, self.tag) + self.children[0].encode()
        return cbor2.dumps(self.value)  # cbor2 writes it, definite

    def special(self):
        """Somewhere below, an encoding cbor2 would not choose."""
        return any(c.indef is not None or c.width or c.special()
                   for c in self.children)

    def has(self, pred):
        return pred(self) or any(c.has(pred) for c in self.children)


def text_diag(s):
    out = []
    for ch in s:
        esc = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f",
               "\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch)
        out.append(esc if esc else f"\\u{ord(ch):04x}" if ord(ch) < 0x20 else ch)
    return '"' + "".join(out) + '"'


def float_diag(v):
    """RFC 8949 Appendix A spelling: shortest round trip (Python's repr
    digits), ECMAScript layout, ".0" when there is no fraction."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    sign = "-" if math.copysign(1, v) < 0 else ""
    if v == 0:
        return sign + "0.0"
    _, digits, exp = Decimal(repr(abs(v))).normalize().as_tuple()
    d = "".join(map(str, digits))
    k = len(d) + exp  # v = 0.d * 10^k
    if 0 < k <= 21:
        body = d[:k] + "0" * max(0, k - len(d)) + "." + (d[k:] or "0")
    elif -6 < k <= 0:
        body = "0." + "0" * -k + d
    else:
        body = f"{d[0]}.{d[1:] or '0'}e{'+' if k - 1 >= 0 else '-'}{abs(k - 1)}"
    return sign + body


def diag(n):
    if n.kind == "int":
        if -2**64 <= n.value < 2**64:
            return str(n.value)
        tag, mag = (2, n.value) if n.value >= 0 else (3, -1 - n.value)
        return f"{tag}(h'{mag.to_bytes((mag.bit_length() + 7) // 8, 'big').hex()}')"
    if n.kind == "float":
        return float_diag(n.value)
    if n.kind in ("bytes", "text"):
        one = (lambda b: f"h'{b.hex()}'") if n.kind == "bytes" else text_diag
        if n.indef is None:
            return one(n.value)
        if not n.indef:
            return "''_" if n.kind == "bytes" else '""_'
        return "(_ " + ", ".join(map(one, n.indef)) + ")"
    if n.kind in ("array", "map"):
        parts = [diag(c) for c in n.children]
        if n.kind == "map":
            parts = [f"{k}: {v}" for k, v in zip(parts[::2], parts[1::2])]
        o, c = "[]" if n.kind == "array" else "{}"
        return o + ("_ " if n.indef else "") + ", ".join(parts) + c
    if n.kind == "tag":
        return f"{n.tag}({diag(n.children[0])})"
    if isinstance(n.value, cbor2.CBORSimpleValue):
        return f"simple({n.value.value})"
    if n.value is cbor2.undefined:
        return "undefined"
    return {False: "false", True: "true", None: "null"}[n.value]


def b64(data, enc):
    if enc == 23:
        return data.hex().upper()
    if enc == 22:
        return base64.b64encode(data).decode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def json_value(n, enc=21):
    """What vigilctl cbor json must print (as a Python value), or raise
    ValueError for what JSON cannot hold (RFC 8949 §6.1)."""
    if n.kind == "int":
        if -2**64 <= n.value < 2**64:
            return n.value
        mag = n.value if n.value >= 0 else -1 - n.value
        raw = mag.to_bytes((mag.bit_length() + 7) // 8, "big")
        return ("" if n.value >= 0 else "~") + b64(raw, 21)
    if n.kind == "float":
        if math.isnan(n.value) or math.isinf(n.value):
            raise ValueError("nonfinite")
        return n.value
    if n.kind == "bytes":
        return b64(n.value, enc)
    if n.kind == "text":
        return n.value
    if n.kind == "array":
        return [json_value(c, enc) for c in n.children]
    if n.kind == "map":
        keys = n.children[::2]
        if any(k.kind != "text" for k in keys):
            raise ValueError("key")
        return {k.value: json_value(v, enc) for k, v in zip(keys, n.children[1::2])}
    if n.kind == "tag":
        return json_value(n.children[0], n.tag if n.tag in (21, 22, 23) else enc)
    if n.value is True or n.value is False or n.value is None:
        return n.value
    raise ValueError("simple")


# ---- the generator ----

INT_EDGES = [0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1]
TAGS = [6, 15, 21, 22, 23, 24, 26, 33, 38, 1000, 65535, 65536, 2**32, 2**64 - 1]
CHARS = "aZ09 \"\\\n\t\x00\x1f\x7f\u00e9\u00fc\u6c34\u20ac\U0001f600\U00010151"


def gen_int(rng):
    r = rng.random()
    if r < 0.5:
        v = rng.choice(INT_EDGES) + rng.choice([0, 0, -1, 1])
        v = max(v, 0)
    elif r < 0.85:
        v = rng.randrange(0, 2**rng.choice([5, 8, 16, 32, 64]))
    else:
        v = rng.randrange(2**64, 2**100)  # cbor2 writes a bignum tag
    if v > 2**64 - 1 and r < 0.85:
        v = 2**64 - 1
    return -1 - v if rng.random() < 0.5 else v


def gen_float(rng):
    r = rng.random()
    if r < 0.15:
        v = rng.choice([math.inf, -math.inf, math.nan, 0.0, -0.0])
    elif r < 0.4:  # exact in half: subnormals, 65504, small fractions
        v = struct.unpack(">e", struct.pack(">H", rng.randrange(0, 0x7c00) | rng.choice([0, 0x8000])))[0]
    elif r < 0.65:  # exact in single
        v = struct.unpack(">f", struct.pack(">I", rng.randrange(0, 0x7f800000) | rng.choice([0, 1 << 31])))[0]
    else:
        v = struct.unpack(">d", struct.pack(">Q", rng.getrandbits(64)))[0]
        if math.isnan(v):
            v = 1.1
    widths = [w for w, f in ((2, ">e"), (4, ">f"), (8, ">d")) if fits(v, f)]
    return Node("float", v, width=rng.choice(widths + [None]))


def fits(v, fmt):
    try:
        back = struct.unpack(fmt, struct.pack(fmt, v))[0]
    except OverflowError:
        return False
    return math.isnan(v) or (back == v and math.copysign(1, back) == math.copysign(1, v))


def gen_text(rng):
    n = rng.choice([0, 1, 5, 23, 24, 30, 255, 256, 300])
    return "".join(rng.choice(CHARS) for _ in range(rng.randrange(0, n + 1)))


def gen_bytes(rng):
    n = rng.choice([0, 1, 3, 23, 24, 255, 256, 1000, 70000 if rng.random() < 0.02 else 10])
    return rng.randbytes(n)


def chunks(rng, s):
    cuts = sorted(rng.sample(range(len(s) + 1), min(len(s) + 1, rng.randrange(0, 4))))
    parts, last = [], 0
    for c in cuts + [len(s)]:
        parts.append(s[last:c])
        last = c
    return [p for p in parts if p or rng.random() < 0.3]


def gen_leaf(rng, key=False):
    kinds = ["int", "text", "bytes"] if key else [
        "int", "int", "float", "float", "text", "bytes", "simple", "special"]
    kind = rng.choice(kinds)
    if kind == "int":
        return Node("int", gen_int(rng))
    if kind == "float":
        return gen_float(rng)
    if kind in ("text", "bytes"):
        v = gen_text(rng) if kind == "text" else gen_bytes(rng)
        indef = chunks(rng, v) if not key and rng.random() < 0.25 else None
        return Node(kind, v, indef=indef)
    if kind == "simple":
        return Node("simple", cbor2.CBORSimpleValue(rng.choice(
            list(range(0, 20)) + [32, 100, 255])))
    return Node("simple", rng.choice([True, False, None, cbor2.undefined]))


def gen(rng, depth=0):
    r = rng.random()
    if depth >= 4 or r < 0.45:
        return gen_leaf(rng)
    indef = rng.random() < 0.3
    if r < 0.7:
        kids = [gen(rng, depth + 1) for _ in range(rng.choice([0, 1, 2, 3, 5, 24]))]
        return Node("array", [k.value for k in kids], kids, indef=indef or None)
    if r < 0.88:
        kids, seen = [], set()
        for _ in range(rng.choice([0, 1, 2, 4])):
            k = gen_leaf(rng, key=True)
            if (type(k.value), k.value) in seen:
                continue
            seen.add((type(k.value), k.value))
            kids += [k, gen(rng, depth + 1)]
        value = {k.value: v.value for k, v in zip(kids[::2], kids[1::2])}
        return Node("map", value, kids, indef=indef or None)
    content = gen(rng, depth + 1)
    t = rng.choice(TAGS)
    return Node("tag", cbor2.CBORTag(t, content.value), [content], tag=t)


@pytest.fixture(scope="module")
def docs():
    rng = random.Random(SEED)
    out = []
    for _ in range(DOCS):
        n = gen(rng)
        data = n.encode()
        assert same(cbor2.loads(data), n.value), (data.hex(), n.value)
        out.append((n, data))
    # the generator covers what it claims
    wanted = {
        "indefinite": lambda x: x.indef is not None,
        "half": lambda x: x.width == 2,
        "single": lambda x: x.width == 4,
        "map": lambda x: x.kind == "map",
        "tag": lambda x: x.kind == "tag",
        "nan": lambda x: x.kind == "float" and math.isnan(x.value),
        "bignum": lambda x: x.kind == "int" and abs(x.value) > 2**64,
        "simple": lambda x: isinstance(x.value, cbor2.CBORSimpleValue),
    }
    for what, pred in wanted.items():
        assert sum(n.has(pred) for n, _ in out) >= 10, what
    return out


def mismatch(i, doc, got):
    n, data = doc
    return f"document {i}: input {data.hex()[:400]}\n want {n.value!r:.400}\n got {got!r:.400}"


def test_vigil_copy_keeps_every_cbor2_value(docs):
    r = run([str(roundtrip_bin()), "vigil"], b"".join(d for _, d in docs))
    assert r.returncode == 0, r.stderr.decode()
    items = loads_seq(r.stdout)
    assert len(items) == len(docs)
    for i, (doc, (value, _)) in enumerate(zip(docs, items)):
        assert same(value, doc[0].value), mismatch(i, doc, value)


def test_vigil_output_reads_the_same_in_libcbor(docs):
    # libcbor 0.8's three known defects (see the top of this file).
    chosen = [d for d in docs if not d[0].has(
        lambda x: isinstance(x.value, cbor2.CBORSimpleValue)
        or (x.kind == "tag" and 6 <= x.tag <= 20)
        or (x.kind == "float" and 0 < abs(x.value) < 2**-14 and fits(x.value, ">e")))]
    assert len(chosen) >= DOCS // 2
    vig = run([str(roundtrip_bin()), "vigil"], b"".join(d for _, d in chosen))
    assert vig.returncode == 0, vig.stderr.decode()
    lib = run([str(roundtrip_bin()), "libcbor"], vig.stdout)
    assert lib.returncode == 0, lib.stderr.decode()
    items = loads_seq(lib.stdout)
    assert len(items) == len(chosen)
    for i, (doc, (value, _)) in enumerate(zip(chosen, items)):
        assert same(value, doc[0].value), mismatch(i, doc, value)


def test_preferred_form_equals_cbor2_canonical(docs):
    chosen = [d for d in docs if not d[0].has(lambda x: x.kind == "map")]
    assert len(chosen) >= DOCS // 2
    r = run([str(roundtrip_bin()), "vigil-definite"], b"".join(d for _, d in chosen))
    assert r.returncode == 0, r.stderr.decode()
    items = loads_seq(r.stdout)
    assert len(items) == len(chosen)
    for i, (doc, (_, raw)) in enumerate(zip(chosen, items)):
        want = cbor2.dumps(doc[0].value, canonical=True)
        assert raw == want, mismatch(i, doc, raw.hex()) + f"\n want bytes {want.hex()}"


def test_vigilctl_diag_matches_the_tree(docs):
    r = run([str(binary("vigilctl")), "cbor", "diag"], b"".join(d for _, d in docs))
    assert r.returncode == 0, r.stderr.decode()
    lines = r.stdout.decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == len(docs) + 1
    for i, (doc, line) in enumerate(zip(docs, lines)):
        assert line == diag(doc[0]), f"document {i}: {doc[1].hex()[:400]}"


def test_vigilctl_json_matches_rfc8949_6_1(docs):
    good, bad = [], []
    for n, data in docs:
        try:
            good.append((n, data, json_value(n)))
        except ValueError:
            bad.append((n, data))
    assert len(good) >= 100 and len(bad) >= 50
    r = run([str(binary("vigilctl")), "cbor", "json"], b"".join(d for _, d, _ in good))
    assert r.returncode == 0, r.stderr.decode()
    lines = r.stdout.decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == len(good) + 1
    for i, ((n, data, want), line) in enumerate(zip(good, lines)):
        assert same(json.loads(line), want), mismatch(i, (n, data), line[:400])
    for n, data in bad[::4]:  # what JSON cannot hold: exit 1, no output
        r = run([str(binary("vigilctl")), "cbor", "json"], data, timeout=10)
        assert r.returncode == 1 and r.stdout == b"", data.hex()
        assert b"(JSON)" in r.stderr, r.stderr


def test_malformed_input_is_refused_by_both(tmp_path):
    for bad in ("8201", "5f01ff", "ff", "f818", "1c", "a1f5"):
        for mode in ("vigil", "libcbor"):
            r = run([str(roundtrip_bin()), mode], bytes.fromhex(bad))
            assert r.returncode == 1, (mode, bad, r.stdout.hex())
