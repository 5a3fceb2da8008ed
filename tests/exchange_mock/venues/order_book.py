"""What a mock exchange holds: the orders it accepted and the withdrawals it carried out,
in memory for the mock's lifetime."""

import threading
import time


class Order:
    """One order in the mock's book. Amounts and prices are kept as the strings the client
    sent, so the mock echoes back exactly what it was given."""

    def __init__(self, order_id, symbol, side, kind, amount, price, client_id, created_ms):
        self.id = order_id
        self.symbol = symbol
        self.side = side          # "buy" / "sell"
        self.kind = kind          # "limit" / "market"
        self.amount = amount      # string
        self.price = price        # string or None (market)
        self.client_id = client_id
        self.created_ms = created_ms
        # A market order fills at once (at the mock's last price); a limit order rests.
        self.status = "closed" if kind == "market" else "open"
        self.filled = amount if kind == "market" else "0"


class OrderBook:
    """The orders a mock exchange has accepted, by id; thread-safe."""

    def __init__(self, first_id=1000):
        self._lock = threading.Lock()
        self._orders = {}
        self._next = first_id

    def create(self, symbol, side, kind, amount, price, client_id=None, id_format=str):
        with self._lock:
            self._next += 1
            order = Order(id_format(self._next), symbol, side, kind, amount, price, client_id,
                          int(time.time() * 1000))
            self._orders[order.id] = order
            return order

    def get(self, order_id):
        with self._lock:
            return self._orders.get(str(order_id))

    def find_client_id(self, client_id):
        with self._lock:
            for o in self._orders.values():
                if o.client_id is not None and o.client_id == client_id:
                    return o
            return None

    def cancel(self, order_id):
        """Cancels an open order; returns it, or None when there is no such open order."""
        with self._lock:
            order = self._orders.get(str(order_id))
            if order is None or order.status != "open":
                return None
            order.status = "canceled"
            return order

    def open_orders(self):
        with self._lock:
            return [o for o in self._orders.values() if o.status == "open"]

    def all_orders(self):
        with self._lock:
            return list(self._orders.values())


class Withdrawals:
    """Withdrawals the mock accepted (the proxy tests assert none arrive through the proxy)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items = []

    def add(self, currency, amount, address, network=None):
        with self._lock:
            wid = "wd%06d" % (len(self._items) + 1)
            self._items.append({"id": wid, "currency": currency, "amount": amount,
                                "address": address, "network": network})
            return wid
