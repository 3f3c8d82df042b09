"""A validator for the subset of CDDL (RFC 8610) that docs/status.cddl uses,
shared by the tests that check CBOR status documents against it."""
import re

from conftest import ROOT

CDDL = ROOT / "docs/status.cddl"

TOKEN = re.compile(r'\s*(?:(;[^\n]*)|("(?:[^"\\]|\\.)*")|(-?\d+)|'
                   r'([A-Za-z_][A-Za-z0-9_.-]*)|(=>|[{}\[\](),:/?*+=]))')
PRELUDE = {
    "uint": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "nint": lambda v: isinstance(v, int) and not isinstance(v, bool) and v < 0,
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "tstr": lambda v: isinstance(v, str),
    "text": lambda v: isinstance(v, str),
    "bstr": lambda v: isinstance(v, bytes),
    "bool": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "float": lambda v: isinstance(v, float),
    "any": lambda v: True,
}


class Cddl:
    """Rules `name = type`; types are choices (/) of prelude names, rule
    names, text/integer literals, maps {...} and arrays [...]; map entries
    `"key": type` or `type => type`, array entries `type`; occurrence
    indicators ?, *, +, n*m."""

    def __init__(self, text):
        self.toks = []
        pos = 0
        while pos < len(text):
            m = TOKEN.match(text, pos)
            if not m or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise ValueError(f"CDDL syntax at {text[pos:pos + 20]!r}")
            pos = m.end()
            if m.group(1):
                continue
            for kind, g in zip(("str", "int", "name", "punct"), m.groups()[1:]):
                if g is not None:
                    self.toks.append((kind, g))
        self.i = 0
        self.rules = {}
        while self.i < len(self.toks):
            name = self.expect("name")
            self.expect("punct", "=")
            self.rules[name] = self.type_()

    def peek(self, off=0):
        j = self.i + off
        return self.toks[j] if j < len(self.toks) else (None, None)

    def expect(self, kind, val=None):
        k, v = self.peek()
        if k != kind or (val is not None and v != val):
            raise ValueError(f"CDDL: expected {val or kind}, got {v!r}")
        self.i += 1
        return v

    def type_(self):
        alts = [self.type1()]
        while self.peek() == ("punct", "/"):
            self.i += 1
            alts.append(self.type1())
        return ("choice", alts) if len(alts) > 1 else alts[0]

    def type1(self):
        k, v = self.peek()
        self.i += 1
        if k == "str":
            return ("lit", v[1:-1])
        if k == "int":
            return ("lit", int(v))
        if k == "name":
            # a rule name not followed by '=' (that would start a rule)
            return ("ref", v)
        if v == "{":
            return ("map", self.entries("}", is_map=True))
        if v == "[":
            return ("array", self.entries("]", is_map=False))
        if v == "(":
            t = self.type_()
            self.expect("punct", ")")
            return t
        raise ValueError(f"CDDL: unexpected {v!r}")

    def occurrence(self):
        k, v = self.peek()
        if v == "?":
            self.i += 1
            return (0, 1)
        if v == "+":
            self.i += 1
            return (1, None)
        if v == "*":
            self.i += 1
            if self.peek()[0] == "int":
                return (0, int(self.expect("int")))
            return (0, None)
        if k == "int" and self.peek(1) == ("punct", "*"):
            lo = int(v)
            self.i += 2
            hi = int(self.expect("int")) if self.peek()[0] == "int" else None
            return (lo, hi)
        return (1, 1)

    def entries(self, close, is_map):
        out = []
        while self.peek() != ("punct", close):
            occ = self.occurrence()
            if is_map and self.peek()[0] == "str" and self.peek(1) == ("punct", ":"):
                key = ("lit", self.expect("str")[1:-1])
                self.i += 1
                val = self.type_()
            elif is_map:
                key = self.type1()
                self.expect("punct", "=>")
                val = self.type_()
            else:
                key, val = None, self.type_()
            out.append((occ, key, val))
            if self.peek() == ("punct", ","):
                self.i += 1
        self.i += 1
        return out

    # -- validation: raises AssertionError with a path on a mismatch --

    def validate(self, value, rule):
        self.check(value, ("ref", rule), rule)

    def matches(self, value, t, path):
        try:
            self.check(value, t, path)
            return True
        except AssertionError:
            return False

    def check(self, v, t, path):
        kind = t[0]
        if kind == "ref":
            name = t[1]
            if name in self.rules:
                return self.check(v, self.rules[name], f"{path}")
            if name not in PRELUDE:
                raise ValueError(f"CDDL: unknown type {name}")
            assert PRELUDE[name](v), f"{path}: {v!r} is not {name}"
        elif kind == "lit":
            assert type(v) is type(t[1]) and v == t[1], \
                f"{path}: {v!r} is not {t[1]!r}"
        elif kind == "choice":
            assert any(self.matches(v, a, path) for a in t[1]), \
                f"{path}: {v!r} matches none of the choices"
        elif kind == "map":
            self.check_map(v, t[1], path)
        elif kind == "array":
            self.check_array(v, t[1], path)

    def check_map(self, v, entries, path):
        assert isinstance(v, dict), f"{path}: not a map"
        left = dict(v)
        for (lo, hi), key, val in entries:
            if key[0] == "lit":
                if key[1] in left:
                    self.check(left.pop(key[1]), val, f"{path}.{key[1]}")
                else:
                    assert lo == 0, f"{path}: key {key[1]!r} missing"
                continue
            taken = [k for k in left if self.matches(k, key, path)]
            assert len(taken) >= lo and (hi is None or len(taken) <= hi), \
                f"{path}: {len(taken)} entries for a {lo}..{hi} group"
            for k in taken:
                self.check(left.pop(k), val, f"{path}.{k}")
        assert not left, f"{path}: unexpected keys {sorted(map(str, left))}"

    def check_array(self, v, entries, path):
        assert isinstance(v, list), f"{path}: not an array"
        i = 0
        for (lo, hi), _, val in entries:
            n = 0
            while i < len(v) and (hi is None or n < hi) and \
                    self.matches(v[i], val, f"{path}[{i}]"):
                i += 1
                n += 1
            assert n >= lo, f"{path}: {n} items, at least {lo} wanted"
        assert i == len(v), f"{path}[{i}]: does not match the array's type"
