#!/usr/bin/env python3
"""tests/size.py — where vigild's bytes go, from the GNU ld link map.

    tests/size.py report BOARD...   per board: file size, and the bytes each
                                    part (vigil, mbedTLS, musl, libgcc) puts
                                    in the file and in .bss, largest objects
    tests/size.py check BOARD...    each board's stripped vigild against its
                                    budget in tests/size-budget.txt; prints
                                    "N passed, N failed" (make check)

vigild is linked with LTO, which merges vigil and mbedTLS into one unit,
so the shares come from build/<board>/nolto/vigild: the same sources
linked without LTO, with its map (-Wl,-Map) beside it.  Every input section the linker kept in an allocated output
section is charged to the object it came from; sections with no file bytes
(.bss, .tbss) are counted apart.  What is left of the file (ELF headers,
segment alignment, section table) is shown as "ELF overhead".
"""
import os
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BUDGETS = os.path.join(ROOT, "tests", "size-budget.txt")
NOBITS = (".bss", ".tbss")
# An input-section line: " .text.name 0xADDR 0xSIZE object" (the name may
# stand alone on the line before when it is long).
SECTION = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
OUTPUT = re.compile(r"^(\.\S+)\s*(0x[0-9a-f]+\s+0x[0-9a-f]+)?")


def part_of(obj):
    """The component an input object belongs to."""
    if "libmbed" in obj:
        return "mbedTLS"
    if "libgcc" in obj or "/gcc" in obj and "crt" in obj:
        return "libgcc"
    if "/musl/" in obj:
        return "musl"
    return "vigil"


def short_name(obj):
    """build/b/obj/lib/log.o -> lib/log.o; /x/libmbedtls.a(ssl_tls.o) -> ssl_tls.o."""
    m = re.search(r"\(([^)]+)\)$", obj)
    if m:
        return m.group(1)
    m = re.search(r"/obj/(.*)$", obj)
    return m.group(1) if m else os.path.basename(obj)


def allocated_sections(elf):
    """Names of the sections that occupy memory in the program (flag A)."""
    out = subprocess.run(["readelf", "-SW", elf], check=True, text=True,
                         capture_output=True).stdout
    names = set()
    for line in out.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S*A\S*)\s", line)
        if m:
            names.add(m.group(1))
    return names


def parse_map(path, kept):
    """{(part, object): [file_bytes, bss_bytes]} for the kept sections of
    the output sections named in kept."""
    usage = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("Linker script and memory map", 1)[1].splitlines()
    out_sec = None
    pending = None
    for line in lines:
        m = OUTPUT.match(line)
        if m and not line.startswith(" "):
            out_sec = m.group(1)
            pending = None
            continue
        if out_sec not in kept:
            continue
        if re.match(r"^ \S+$", line):
            pending = line.strip()
            continue
        m = SECTION.match(line)
        if not m:
            pending = None
            continue
        size = int(m.group(3), 16)
        obj = m.group(4).strip()
        pending = None
        if size == 0 or not ("/" in obj or obj.endswith(".o")):
            continue
        key = (part_of(obj), short_name(obj))
        slot = usage.setdefault(key, [0, 0])
        slot[1 if out_sec.startswith(NOBITS) else 0] += size
    return usage


def binary(board):
    return os.path.join(ROOT, "build", board, "bin", "vigild")


def report(board, top=12):
    """The product's size; the parts' shares come from the link of the
    same objects without LTO (LTO merges the parts into one unit)."""
    nolto = os.path.join(ROOT, "build", board, "nolto", "vigild")
    usage = parse_map(nolto + ".map", allocated_sections(nolto))
    total = os.path.getsize(binary(board))
    plain = os.path.getsize(nolto)
    parts = {}
    for (part, _), (fbytes, bss) in usage.items():
        p = parts.setdefault(part, [0, 0])
        p[0] += fbytes
        p[1] += bss
    print(f"{board}: vigild {total} bytes ({total / 1024:.1f} KiB) stripped, "
          f"with LTO; {plain} without, by part:")
    charged = 0
    for part in ("vigil", "mbedTLS", "musl", "libgcc"):
        fbytes, bss = parts.get(part, [0, 0])
        charged += fbytes
        print(f"  {part:8} {fbytes:8} file {100 * fbytes / plain:5.1f} %   {bss:8} bss")
    print(f"  {'ELF overhead':12} {plain - charged:4} (headers, segment alignment)")
    print(f"  LTO saves {plain - total} bytes")
    print("  largest objects (file bytes, without LTO):")
    ranked = sorted(usage.items(), key=lambda kv: -kv[1][0])[:top]
    for (part, name), (fbytes, bss) in ranked:
        print(f"    {fbytes:7}  {part:7} {name}")


def budgets():
    table = {}
    with open(BUDGETS, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if len(line) == 2:
                table[line[0]] = int(line[1])
    return table


def check(boards):
    table = budgets()
    passed = failed = 0
    for board in boards:
        size = os.path.getsize(binary(board))
        limit = table.get(board)
        if limit is None:
            print(f"not ok - {board}: no budget in tests/size-budget.txt")
            failed += 1
        elif size > limit:
            print(f"not ok - {board}: vigild {size} bytes > budget {limit}")
            failed += 1
        else:
            print(f"ok - {board}: vigild {size} bytes <= budget {limit}")
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return failed == 0


def main(argv):
    if len(argv) < 3 or argv[1] not in ("report", "check"):
        sys.exit(__doc__)
    if argv[1] == "check":
        return 0 if check(argv[2:]) else 1
    for board in argv[2:]:
        report(board)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
