#!/usr/bin/env python3
"""Local mock exchanges for the signing proxy's tests.

    python3 mock.py --creds CREDS.json --dir DIR

CREDS.json holds the REAL credentials of the exchanges to mock (any subset):

    {"binance": {"apiKey": "...", "secret": "..."},
     "binanceusdm": {"apiKey": "...", "secret": "..."},
     "okx": {"apiKey": "...", "secret": "...", "password": "..."},
     "bybit": {"apiKey": "...", "secret": "..."},
     "kraken": {"apiKey": "...", "secret": "<base64>"},
     "coinbase": {"apiKey": "organizations/.../apiKeys/...", "secret": "-----BEGIN EC PRIVATE KEY-----..."}}

The mock makes a throwaway CA and a server certificate for 127.0.0.1/localhost, writes the CA
to DIR/ca.pem, starts one TLS server (HTTP/1.1 keep-alive) per exchange on an ephemeral
loopback port, then writes DIR/ports.json atomically ({"binance": 43121, ...}) and prints the
same JSON on one stdout line. Every request is verified the way the exchange documents it
(venues/*.py) and logged as one JSON line to DIR/requests.jsonl (never a secret or a
signature). SIGTERM or SIGINT stops it cleanly (exit 0).
"""

import sys

sys.dont_write_bytecode = True  # keep tests/exchange_mock free of __pycache__

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402

from http_server import MockServer, RequestLog, tls_server_context  # noqa: E402
from tls_ca import make_ca_and_server_cert, write_atomically  # noqa: E402
from venues import VENUES, check_creds  # noqa: E402


def load_creds(path):
    try:
        with open(path, encoding="utf-8") as f:
            creds = json.load(f)
    except OSError as e:
        sys.exit("mock.py: cannot read the credentials file %s: %s" % (path, e.strerror))
    except ValueError as e:
        sys.exit("mock.py: the credentials file %s is not JSON: %s" % (path, e))
    problem = check_creds(creds)
    if problem:
        sys.exit("mock.py: the credentials file %s: %s" % (path, problem))
    return creds


def tls_context(directory, cert_pem, key_pem):
    """ssl loads a key only from a file: write it to a private temporary file, load it,
    delete it at once."""
    fd, key_path = tempfile.mkstemp(prefix=".server-key-", dir=directory)
    cert_path = key_path + ".crt"
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem)
        with open(cert_path, "wb") as f:
            f.write(cert_pem)
        return tls_server_context(cert_path, key_path)
    finally:
        for p in (key_path, cert_path):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass


def main():
    parser = argparse.ArgumentParser(description="Local mock exchanges (TLS) for the signing proxy's tests.")
    parser.add_argument("--creds", required=True, help="JSON file with the real credentials per exchange")
    parser.add_argument("--dir", required=True, help="directory for ca.pem, ports.json, requests.jsonl")
    args = parser.parse_args()

    creds = load_creds(args.creds)
    venues = {}
    for name in sorted(creds):
        try:
            venues[name] = VENUES[name](name, creds[name])
        except (ValueError, TypeError) as e:
            sys.exit("mock.py: the credentials file %s: %s: %s" % (args.creds, name, e))
    os.makedirs(args.dir, exist_ok=True)
    ca_pem, cert_pem, key_pem = make_ca_and_server_cert()
    write_atomically(os.path.join(args.dir, "ca.pem"), ca_pem)
    ctx = tls_context(args.dir, cert_pem, key_pem)
    log = RequestLog(os.path.join(args.dir, "requests.jsonl"))

    servers = {}
    for name, venue in venues.items():
        server = MockServer(lambda request, venue=venue: (venue, request), log, ctx)
        threading.Thread(target=server.serve_forever, name="mock-" + name, daemon=True).start()
        servers[name] = server

    ports = {name: server.port for name, server in servers.items()}
    line = json.dumps(ports, separators=(",", ":"), sort_keys=True)
    write_atomically(os.path.join(args.dir, "ports.json"), (line + "\n").encode())
    print(line, flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(1.0)
    for server in servers.values():
        server.shutdown()
        server.server_close()
    log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
