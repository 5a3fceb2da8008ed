"""The HTTP side of the mock: one threaded HTTP/1.1 (keep-alive) server per exchange, over TLS
for mock.py or plain for record.py, each handing every request to its venue (venues/*.py)
and logging one JSON line per request.

A venue is an object with ``name`` and ``handle(request) -> Reply``. This module knows
nothing about any exchange.
"""

import json
import socket
import ssl
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Longest request body the mock reads; real ccxt requests are a few hundred bytes.
MAX_BODY = 1 << 20


class Request:
    """One request as the venue sees it: method, path (percent-decoding left to the venue),
    raw query string (without "?", "" when absent; ``had_question_mark`` tells "/p?" from
    "/p"), headers (case-insensitive, from http.client), body bytes, and the Host header."""

    def __init__(self, method, target, headers, body):
        self.method = method
        path, sep, query = target.partition("?")
        self.path = path
        self.query = query
        self.had_question_mark = bool(sep)
        self.headers = headers
        self.body = body
        self.host = headers.get("Host", "")

    def header(self, name):
        return self.headers.get(name)

    def query_params(self):
        """The query as a dict of last values (venues that care about repeats parse it themselves)."""
        return dict(urllib.parse.parse_qsl(self.query, keep_blank_values=True))


class Reply:
    """What a venue answers: HTTP status, a JSON-able body (or raw bytes), and the log verdict.

    ``authenticated`` is True (signature verified), False (a private request that failed
    verification) or "public" (no authentication needed). ``verdict`` is "ok" or "rejected";
    ``reason`` says why in a few words (never a secret or a signature).
    """

    def __init__(self, status, body, authenticated, verdict="ok", reason="", content_type="application/json"):
        self.status = status
        self.body = body
        self.authenticated = authenticated
        self.verdict = verdict
        self.reason = reason
        self.content_type = content_type

    def encoded(self):
        if isinstance(self.body, (bytes, bytearray)):
            return bytes(self.body)
        return json.dumps(self.body, separators=(",", ":")).encode()


class RequestLog:
    """Appends one JSON line per request to a file, from any thread."""

    def __init__(self, path):
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8") if path else None

    def write(self, record):
        if self._file is None:
            return
        line = json.dumps(record, separators=(",", ":"), sort_keys=False) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()

    def close(self):
        if self._file is not None:
            with self._lock:
                self._file.close()


def _make_handler(venue_for, log, observer):
    """The handler class for one server. ``venue_for(request) -> (venue, request)`` picks the
    venue (and may rewrite the request, as record.py does for proxy-form URLs); ``observer``
    (optional) sees every (request, reply) pair."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "custody-exchange-mock"
        sys_version = ""
        # An idle keep-alive connection is dropped after this many seconds.
        timeout = 60
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm
        # holds the body until the client's delayed ACK (~40 ms a response on Linux).
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):  # the JSON log replaces http.server's stderr lines
            pass

        def _read_chunked(self):
            """A chunked request body (RFC 9112 section 7.1), or None when malformed or too long."""
            body = b""
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    return None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailer fields
                    return body
                if len(body) + size > MAX_BODY:
                    return None
                body += self.rfile.read(size)
                self.rfile.readline(1024)  # the CRLF after the chunk

        def _serve(self):
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                body = self._read_chunked()
            else:
                length = self.headers.get("Content-Length")
                try:
                    n = int(length) if length is not None else 0
                except ValueError:
                    n = -1
                body = self.rfile.read(n) if 0 < n <= MAX_BODY else (b"" if n == 0 else None)
            if body is None:
                self._send(Reply(400, {"error": "bad request body framing or over %d bytes" % MAX_BODY},
                                 False, "rejected", "bad body framing"), None)
                self.close_connection = True
                return
            request = Request(self.command, self.path, self.headers, body)
            venue = None
            try:
                venue, request = venue_for(request)
                if venue is None:
                    reply = Reply(404, {"error": "no mock for this host"}, "public", "rejected", "unknown host")
                else:
                    reply = venue.handle(request)
            except Exception as e:  # a bug in the mock: answer 500 and say so in the log
                reply = Reply(500, {"error": "mock failure"}, False, "rejected", "mock error: %s: %s" % (type(e).__name__, e))
                print("exchange mock: %s %s: %s: %s" % (request.method, request.path, type(e).__name__, e), file=sys.stderr)
            if observer is not None:  # before the reply goes out, so the client's next step comes after
                observer(request, reply)
            self._send(reply, request, venue)

        def _send(self, reply, request, venue=None):
            data = reply.encoded()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            if request is not None:
                log.write({
                    "exchange": venue.name if venue is not None else None,
                    "method": request.method,
                    "path": request.path,
                    "query": venue.loggable_query(request) if hasattr(venue, "loggable_query") else request.query,
                    "body_length": len(request.body),
                    "authenticated": reply.authenticated,
                    "verdict": reply.verdict,
                    "reason": reply.reason,
                    "status": reply.status,
                })

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = _serve

    return Handler


class MockServer(ThreadingHTTPServer):
    """A threaded HTTP/1.1 server on 127.0.0.1, optionally TLS. Handshakes happen in the
    connection's own thread (``do_handshake_on_connect=False`` on the listening socket is
    inherited by accepted sockets), so a stuck client cannot block accept()."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, venue_for, log, tls_context=None, observer=None, port=0):
        super().__init__(("127.0.0.1", port), _make_handler(venue_for, log, observer))
        if tls_context is not None:
            self.socket = tls_context.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def handle_error(self, request, client_address):
        # A client that hangs up or fails the TLS handshake is not the mock's failure.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError, socket.timeout, TimeoutError)):
            return
        super().handle_error(request, client_address)

    @property
    def port(self):
        return self.server_address[1]


def tls_server_context(cert_path, key_path):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_path, key_path)
    ctx.set_alpn_protocols(["http/1.1"])  # the mock speaks HTTP/1.1 only
    return ctx
