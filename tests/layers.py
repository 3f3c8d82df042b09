#!/usr/bin/env python3
"""tests/layers.py — the include graph between vigild's folders.

Reads every #include "x.h" in lib/, firmware/<subsystem>/, protocol/ and
hal/ (its include/hal, linux and sim folders), finds the folder that holds
x.h, and draws the graph of folder -> folder edges.  protocol/ and
hal/include/hal (LAYER_BASE) may be used by every folder of vigild; they
themselves use nothing of vigil's.
Fails (exit 1) on
  - a cycle between folders (printed as a path), and
  - an edge that layers.mk does not allow (an upward include; the build
    rejects those too, since each folder is compiled with only the -I of
    the folders layers.mk names).
Prints the edges and "N passed, N failed" like the other suites.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folders():
    out = ["protocol", "hal/include/hal", "hal/linux", "hal/sim", "lib"]
    fw = os.path.join(ROOT, "firmware")
    out += sorted("firmware/" + d for d in os.listdir(fw)
                  if os.path.isdir(os.path.join(fw, d)))
    return out


def allowed():
    """LAYER_<folder> := ... from layers.mk (with line continuations)."""
    text = open(os.path.join(ROOT, "layers.mk")).read().replace("\\\n", " ")
    table = {}
    for m in re.finditer(r"^LAYER_(\S+)\s*:=(.*)$", text, re.M):
        table[m.group(1)] = set(m.group(2).split())
    base = table.pop("BASE", set())
    for d in table:
        if d == "lib" or d.startswith("firmware/"):
            table[d] |= base
    return table


def graph(dirs):
    # "hal/x.h" names hal/include/hal's header (lib may have its own x.h)
    where = {}
    for d in dirs:
        for f in os.listdir(os.path.join(ROOT, d)):
            if f.endswith(".h"):
                where["hal/" + f if d == "hal/include/hal" else f] = d
    edges = {d: {} for d in dirs}
    for d in dirs:
        for f in sorted(os.listdir(os.path.join(ROOT, d))):
            if not f.endswith((".c", ".h")):
                continue
            src = open(os.path.join(ROOT, d, f), errors="replace").read()
            for inc in INCLUDE.findall(src):
                to = where.get(inc) or where.get(os.path.basename(inc))
                if to and to != d:
                    edges[d].setdefault(to, []).append(f"{f} -> {inc}")
    return edges


def find_cycle(edges):
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges[n]):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if not state.get(m):
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if not state.get(n):
            c = visit(n)
            if c:
                return c
    return None


def main():
    dirs = folders()
    table = allowed()
    edges = graph(dirs)
    passed = failed = 0
    for d in dirs:
        if d not in table:
            print(f"not ok - {d}: no LAYER_{d} in layers.mk")
            failed += 1
            continue
        for to, why in sorted(edges[d].items()):
            if to in table[d]:
                print(f"ok - {d} -> {to} ({len(why)} includes)")
                passed += 1
            else:
                print(f"not ok - {d} -> {to}: not allowed by layers.mk: "
                      f"{'; '.join(why[:3])}")
                failed += 1
    cycle = find_cycle(edges)
    if cycle:
        print("not ok - cycle: " + " -> ".join(cycle))
        failed += 1
    else:
        print("ok - no cycle between folders")
        passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
