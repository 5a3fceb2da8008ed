"""What every mock exchange shares: the route table, the public/private split and the
request log verdicts.

A venue subclass lists its routes as ``(METHOD, path regex, private?, handler name)``,
implements ``authenticate(request) -> Reply | None`` (None: the signature checked out) in the
exchange's own documented way, the exchange's error shapes, and the handlers, which return
``(status, body)``. A venue holds the real secret to verify with; it never logs, echoes or
returns a secret or a signature.
"""

import re
import time

from http_server import Reply
from venues.order_book import OrderBook, Withdrawals


class Venue:
    """Base of the mock exchanges. Subclasses set ``ROUTES``, ``HOSTS`` and implement
    ``authenticate``, ``not_found`` and (for record.py) ``empty_success``."""

    # (METHOD, path regex, private, handler method name); the regex must match the whole path.
    ROUTES = ()
    # The real hosts this venue stands for (record.py dispatches proxy-form URLs by host).
    HOSTS = ()

    def __init__(self, name, creds, clock=time.time):
        self.name = name
        self._creds = dict(creds)
        self.clock = clock
        self.orders = OrderBook()
        self.withdrawals = Withdrawals()
        self._routes = [(m, re.compile(p + r"\Z"), private, getattr(self, h))
                        for (m, p, private, h) in self.ROUTES]
        # record.py sets this: answer unknown endpoints with an empty success instead of 404.
        self.answer_unknown = False

    def cred(self, field):
        return self._creds.get(field)

    def now_ms(self):
        return int(self.clock() * 1000)

    def route(self, request):
        for (method, pattern, private, handler) in self._routes:
            if method == request.method:
                m = pattern.match(request.path)
                if m:
                    return private, handler, m
        return None

    def handle(self, request):
        found = self.route(request)
        if found is None:
            if self.answer_unknown:
                failure = self.authenticate(request) if self.looks_private(request) else None
                if failure is not None:
                    return failure
                status, body = self.empty_success(request)
                auth = True if self.looks_private(request) else "public"
                return Reply(status, body, auth, "ok", "unknown endpoint, empty answer")
            status, body = self.not_found(request)
            return Reply(status, body, "public", "rejected", "no such endpoint in the mock")
        private, handler, match = found
        if private:
            failure = self.authenticate(request)
            if failure is not None:
                return failure
        status, body = handler(request, **match.groupdict())
        failed = self.is_error(status, body)
        verdict = "rejected" if failed else "ok"
        reason = self.error_reason(body) if failed else ""
        return Reply(status, body, True if private else "public", verdict, reason)

    def reject(self, status, body, reason):
        """A failed authentication: logged as authenticated false."""
        return Reply(status, body, False, "rejected", reason)

    def is_error(self, status, body):
        """Whether an answer is an error (some exchanges say so with HTTP 200)."""
        return status >= 400

    def error_reason(self, body):
        return "exchange error"

    def loggable_query(self, request):
        """The query string as logged: the exchange's signature parameter, if it has one in
        the query, is replaced by "<redacted>" (the log never holds a signature)."""
        return request.query

    # -- to implement -------------------------------------------------------------------
    def authenticate(self, request):
        raise NotImplementedError

    def not_found(self, request):
        raise NotImplementedError

    def looks_private(self, request):
        """Whether a request the mock has no route for carries this exchange's authentication."""
        raise NotImplementedError

    def empty_success(self, request):
        raise NotImplementedError
