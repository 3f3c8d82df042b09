"""Another client of vigil-backupd, as a process of its own (so that it
can run inside a test's network namespace): every EVERY seconds a new
connection backs up a small file as client NAME (registered once, then
1027).  Prints one JSON line per attempt: {"t0", "t1" (CLOCK_MONOTONIC),
"ok", "error"}.  Runs until stdin closes.

    prober.py HOST PORT [NAME [EVERY]]"""
import json
import os
import select
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import v3_client as v3  # noqa: E402


def once(addr, name, key, state, n):
    """One backup on a new connection, as a well-behaved client: the id
    is kept from its 1600 on, the key is sent (again, the same one) until
    a 1602 confirms it, and only a server that does not know the id
    (1606 to the 1027, 1607 to the 1026) makes it register anew."""
    c = v3.Client(addr, name, key=key, timeout=5)
    try:
        if state.get("id") is None:
            state["id"], state["keyed"] = c.register(), False
        c.id = state["id"]
        if not state["keyed"]:
            try:
                c.send_key()
            except v3.ServerError:
                state["id"] = None
                raise
            state["keyed"] = True
        else:
            code = c.reconnect()
            if code != v3.R_RECON_OK:
                state["id"] = None
                raise v3.ServerError(code)
        c.backup(f"probe-{n % 4}", os.urandom(512))
    finally:
        c.close()


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    name = sys.argv[3] if len(sys.argv) > 3 else "other-client"
    every = float(sys.argv[4]) if len(sys.argv) > 4 else 0.2
    key = v3.rsa_key()
    state, n = {}, 0
    while True:
        t0 = time.monotonic()
        try:
            once((host, port), name, key, state, n)
            ok, err = True, ""
        except Exception as e:  # every failure is reported, with its reason
            ok, err = False, repr(e)
        print(json.dumps({"t0": t0, "t1": time.monotonic(), "ok": ok, "error": err}),
              flush=True)
        n += 1
        if select.select([sys.stdin], [], [], every)[0] and not sys.stdin.read(1):
            return


if __name__ == "__main__":
    main()
