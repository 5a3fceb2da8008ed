"""Fetch credentials from a custody agent: docs/agent-protocol.md, version 1. Standard library only.

    creds = fetch(["binance-main"])   # {"binance-main": {"exchange": ..., "api_key": ...}}

A refusal raises AgentError (its `code` is the protocol's error code); no agent at the socket
raises OSError (FileNotFoundError or ConnectionRefusedError). Never log what fetch returns.
"""
import json
import os
import socket

MAX_ANSWER_BYTES = 32 * 1024 * 1024


class AgentError(Exception):
    def __init__(self, code, message):
        super().__init__(f"the agent refused ({code}): {message}")
        self.code, self.message = code, message


def socket_path():
    if os.environ.get("CUSTODY_AGENT_SOCKET"):
        return os.environ["CUSTODY_AGENT_SOCKET"]
    run = os.environ.get("XDG_RUNTIME_DIR", "")
    return os.path.join(run if os.path.isabs(run) else "/run", "custody", "agent.sock")


def call(request, path=None, timeout=10.0):
    """Send one request ("v" added), read one answer line, raise unless it is "ok"."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path or socket_path())
        s.sendall(json.dumps({"v": 1, **request}).encode() + b"\n")
        with s.makefile("rb") as f:
            line = f.readline(MAX_ANSWER_BYTES + 1)
    if not line.endswith(b"\n"):
        raise ConnectionError("the agent closed the connection without a whole answer")
    answer = json.loads(line)
    if answer.get("v") != 1:
        raise AgentError("version", f"the agent speaks protocol version {answer.get('v')}")
    if not answer["ok"]:
        raise AgentError(answer["error"], answer["message"])
    return answer


def fetch(names, path=None):
    """The named credentials, as `custody exec --stdin-json` gives them, keyed by name."""
    return call({"op": "fetch", "credentials": list(names)}, path)["credentials"]
