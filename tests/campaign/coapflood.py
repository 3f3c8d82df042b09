"""A CoAP request flood: NON GET /health from SOCKETS source ports
round robin (so per-address state churns), RATE requests per second
for SECONDS, answers counted on the side.  With KIND dtls the datagrams
are DTLS 1.2 ClientHellos without a cookie (PSK suites): a server that
keeps no state for unverified peers answers each with a
HelloVerifyRequest and forgets it.  Prints one JSON line: {"sent",
"answered", "verify_requests", "seconds"}.

    coapflood.py HOST PORT RATE SECONDS [SOCKETS [coap|dtls]]"""
import json
import os
import select
import socket
import struct
import sys
import time


def request(mid):
    # ver 1, NON, TKL 0; GET; message id; Uri-Path (option 11) "health"
    return struct.pack("!BBH", 0x50, 0x01, mid) + bytes([0xB6]) + b"health"


def client_hello(seq):
    """A DTLS 1.2 ClientHello record (no cookie), message_seq 0."""
    body = b"\xfe\xfd" + os.urandom(32) + b"\x00" + b"\x00" \
        + struct.pack("!H", 4) + b"\xc0\xa8\x00\xa8" + b"\x01\x00"
    hs = struct.pack("!B", 1) + len(body).to_bytes(3, "big") + struct.pack("!H", 0) \
        + (0).to_bytes(3, "big") + len(body).to_bytes(3, "big") + body
    return struct.pack("!BHH", 22, 0xfefd, 0) + seq.to_bytes(6, "big") \
        + struct.pack("!H", len(hs)) + hs


def main():
    host, port, rate, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
        float(sys.argv[4])
    n_socks = int(sys.argv[5]) if len(sys.argv) > 5 else 64
    kind = sys.argv[6] if len(sys.argv) > 6 else "coap"
    # a few hundred distinct datagrams, built before the clock starts
    packets = [client_hello(i) if kind == "dtls" else request(i) for i in range(512)]
    socks = []
    for _ in range(n_socks):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.connect((host, port))
        socks.append(s)
    sent = answered = verify = 0
    t0 = time.monotonic()
    batch = max(1, rate // 200)
    while True:
        now = time.monotonic() - t0
        if now >= seconds:
            break
        due = int(now * rate)
        while sent < due:
            for _ in range(min(batch, due - sent)):
                try:
                    socks[sent % n_socks].send(packets[sent % len(packets)])
                except (BlockingIOError, ConnectionRefusedError):
                    pass
                sent += 1
        ready, _, _ = select.select(socks, [], [], 0.002)
        for s in ready:
            while True:
                try:
                    d = s.recv(2048)
                    answered += 1
                    # handshake record, type hello_verify_request (3)
                    verify += len(d) > 13 and d[0] == 22 and d[13] == 3
                except (BlockingIOError, ConnectionRefusedError):
                    break
    print(json.dumps({"sent": sent, "answered": answered, "verify_requests": verify,
                      "seconds": round(time.monotonic() - t0, 3)}), flush=True)
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
