"""CyberBackup v3 file names for the tests, written from the documents,
independent of protocol/v3_name.c:

  name_ok(name)   the rule the deployed servers apply to file names
                  (/work/shared/protocol-cyberbackup-v3.md, "Variants"),
                  exactly, plus the refusal of "." that vigil-backupd adds;
  v3_name(path)   the path -> name mapping of
                  docs/protocol/cyberbackup-v3.md ("Mapping appliance
                  paths to names").
"""
import os
import re

# Python's \s on ASCII only: a name is bytes on the wire, and non-ASCII is
# refused (latin-1 decoding would let \xa0 and \x85 pass a str \s).
_PATTERN = re.compile(r"[a-zA-Z0-9._\-\s]+", re.ASCII)
_DEVICES = {"CON", "PRN", "AUX", "NUL"} | \
    {f"{p}{d}" for p in ("COM", "LPT") for d in range(1, 10)}
# What the mapping also escapes: Windows opens these whatever follows the
# first '.', and ignores trailing spaces before it.
_WINDOWS_DEVICES = _DEVICES | {"COM0", "LPT0"}
_LITERAL = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               b"0123456789.- ")


def name_ok(name):
    """True when a deployed server accepts name (a str, as decoded from
    the 255-byte field with latin-1)."""
    if not 1 <= len(name) <= 250 or name == ".":
        return False
    if _PATTERN.fullmatch(name) is None or ".." in name:
        return False
    return name.rsplit(".", 1)[0].upper() not in _DEVICES


def v3_name(path):
    """The v3 file name of an absolute path: '/' -> '_', letters, digits,
    '.', '-' and space as they are, everything else "_-HH"; also a '-'
    right after a '/', a '.' right after a literal '.', and the first
    character of a Windows device name."""
    raw = os.fsencode(str(path))
    assert raw.startswith(b"/"), path
    out = ""
    for c in raw[1:]:
        prev = out[-1:]
        if c == ord("/"):
            out += "_"
        elif c in _LITERAL and not (c == ord("-") and prev == "_") \
                and not (c == ord(".") and prev == "."):
            out += chr(c)
        else:
            out += f"_-{c:02X}"
    if out.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
        out = f"_-{ord(out[0]):02X}" + out[1:]
    assert len(out) <= 250, f"test path too long for a v3 name: {path}"
    assert name_ok(out), out
    return out
