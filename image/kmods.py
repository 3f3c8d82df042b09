#!/usr/bin/python3
"""kmods.py MODDIR OUTDIR NAME... — picks kernel modules out of a Debian
kernel package for an initramfs.

MODDIR is the package's lib/modules/<version>. Each NAME (a module name,
e.g. virtio_net) is copied with the modules it depends on, as read from
each module's own .modinfo section (the package has no modules.dep and
the build host may have no depmod), to OUTDIR/<name>.ko, and
OUTDIR/load.list names them in an order that loads: every module after
its dependencies, otherwise in the order given. A NAME built into the
kernel (modules.builtin) needs nothing and is skipped; a NAME that is
neither is an error, so a kernel bump that drops a driver fails the
build instead of the boot.
"""
import os
import shutil
import struct
import sys


def modinfo(path):
    """The NUL-separated key=value strings of an ELF module's .modinfo."""
    with open(path, "rb") as f:
        elf = f.read()
    if elf[:4] != b"\x7fELF":
        raise SystemExit(f"kmods.py: {path}: not an ELF file (compressed module?)")
    is64, end = elf[4] == 2, "<" if elf[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(end + "Q", elf, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", elf, 0x3A)
        sec = lambda i: struct.unpack_from(end + "IIQQQQ", elf, shoff + i * shentsize)
    else:
        shoff, = struct.unpack_from(end + "I", elf, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", elf, 0x2E)
        sec = lambda i: struct.unpack_from(end + "IIIIII", elf, shoff + i * shentsize)
    names_off = sec(shstrndx)[4]
    for i in range(shnum):
        name, _type, _flags, _addr, off, size = sec(i)
        end_name = elf.index(b"\0", names_off + name)
        if elf[names_off + name:end_name] == b".modinfo":
            info = {}
            for item in elf[off:off + size].split(b"\0"):
                k, sep, v = item.decode("ascii", "replace").partition("=")
                if sep:
                    info.setdefault(k, v)
            return info
    return {}


def norm(name):
    return name.replace("-", "_")


def main(argv):
    if len(argv) < 4:
        raise SystemExit("usage: kmods.py MODDIR OUTDIR NAME...")
    moddir, outdir, wanted = argv[1], argv[2], [norm(n) for n in argv[3:]]
    files = {}
    for top, _dirs, names in os.walk(os.path.join(moddir, "kernel")):
        for n in names:
            if n.endswith(".ko"):
                files[norm(n[:-3])] = os.path.join(top, n)
    builtin = set()
    with open(os.path.join(moddir, "modules.builtin")) as f:
        for line in f:
            builtin.add(norm(os.path.basename(line.strip())[:-3]))

    order = []

    def visit(name, chain):
        if name in order or name in builtin:
            return
        if name in chain:
            raise SystemExit(f"kmods.py: dependency loop: {' -> '.join(chain + [name])}")
        if name not in files:
            raise SystemExit(f"kmods.py: module {name} is neither in {moddir} nor built in")
        deps = modinfo(files[name]).get("depends", "")
        for d in filter(None, deps.split(",")):
            visit(norm(d), chain + [name])
        order.append(name)

    for name in wanted:
        if name in builtin:
            print(f"kmods.py: {name} is built into the kernel")
        visit(name, [])
    os.makedirs(outdir, exist_ok=True)
    for name in order:
        shutil.copyfile(files[name], os.path.join(outdir, name + ".ko"))
    with open(os.path.join(outdir, "load.list"), "w") as f:
        f.write("".join(n + "\n" for n in order))
    print(f"kmods.py: {len(order)} modules: {' '.join(order)}")


if __name__ == "__main__":
    main(sys.argv)
