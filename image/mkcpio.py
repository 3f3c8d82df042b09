#!/usr/bin/python3
"""mkcpio.py STAGEDIR OUT — writes STAGEDIR as a gzip'd newc cpio archive
(a Linux initramfs), the same bytes for the same tree.

Reproducible by construction: entries sorted by path (bytewise), owner
root:root, every mtime SOURCE_DATE_EPOCH (0 if unset), inode numbers
counted from 1, modes reduced to 0755/0644 (directories and executables /
other files), gzip without a name or time stamp. Symlinks are kept;
hard links and special files in STAGEDIR are refused. /dev/console (the
kernel opens it for init before anything can mount devtmpfs) is added as
a character device, which needs no root here since no node is ever made
on the build host.
"""
import gzip
import os
import stat
import sys

DEVICES = {"dev/console": (stat.S_IFCHR | 0o600, 5, 1)}


def header(ino, mode, nlink, mtime, size, rdev, name):
    fields = [ino, mode, 0, 0, nlink, mtime, size, 0, 0, rdev[0], rdev[1],
              len(name) + 1, 0]
    return b"070701" + b"".join(b"%08X" % v for v in fields)


def pad4(n):
    return b"\0" * (-n % 4)


def entries(stage):
    """(archive path, lstat or None for a device) for the tree and DEVICES."""
    out = []
    for top, dirs, files in os.walk(stage):
        for n in dirs + files:
            full = os.path.join(top, n)
            out.append((os.path.relpath(full, stage), full))
    paths = {p for p, _ in out}
    for dev in DEVICES:
        if dev in paths:
            raise SystemExit(f"mkcpio.py: {dev} must not be in the stage")
        if os.path.dirname(dev) not in paths:
            raise SystemExit(f"mkcpio.py: the stage needs {os.path.dirname(dev)}/")
        out.append((dev, None))
    return sorted(out, key=lambda e: e[0].encode())


def archive(stage, mtime):
    blob = bytearray()
    for ino, (path, full) in enumerate(entries(stage), 1):
        name = path.encode()
        data, rdev = b"", (0, 0)
        if full is None:
            mode, *rdev = DEVICES[path]
            nlink = 1
        else:
            st = os.lstat(full)
            if stat.S_ISDIR(st.st_mode):
                mode, nlink = stat.S_IFDIR | 0o755, 2
            elif stat.S_ISLNK(st.st_mode):
                mode, nlink = stat.S_IFLNK | 0o777, 1
                data = os.readlink(full).encode()
            elif stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
                mode = stat.S_IFREG | (0o755 if st.st_mode & 0o111 else 0o644)
                nlink = 1
                with open(full, "rb") as f:
                    data = f.read()
            else:
                raise SystemExit(f"mkcpio.py: {full}: only directories, symlinks "
                                 "and singly linked files")
        blob += header(ino, mode, nlink, mtime, len(data), rdev, name)
        blob += name + b"\0" + pad4(110 + len(name) + 1)
        blob += data + pad4(len(data))
    name = b"TRAILER!!!"
    blob += header(0, 0, 1, 0, 0, (0, 0), name) + name + b"\0" + pad4(110 + len(name) + 1)
    return bytes(blob)


def main(argv):
    if len(argv) != 3:
        raise SystemExit("usage: mkcpio.py STAGEDIR OUT")
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    data = gzip.compress(archive(argv[1], mtime), compresslevel=9, mtime=0)
    tmp = argv[2] + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, argv[2])


if __name__ == "__main__":
    main(sys.argv)
