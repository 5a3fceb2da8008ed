#!/usr/bin/env bash
# Self-check of the exchange mocks, without the signing proxy:
#  1. throwaway credentials for all six exchanges (make_creds.py);
#  2. mock.py serves them over TLS; ports.json appears;
#  3. for each exchange, bot.py --direct runs the full scenario (load_markets, fetch_balance,
#     limit order, fetch_order, cancel_order, withdraw) with the real credentials straight
#     at the mock, which verifies every genuine ccxt signature; withdraw must succeed here;
#  4. negative.py: wrong secret, wrong key, stale time (Kraken: reused nonce) are refused
#     in each exchange's style, and requests.jsonl holds no secret or signature;
#  5. SIGTERM stops the mock with exit status 0.
# Exits non-zero on the first failure. Needs python3 with ccxt 4.5.75.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
mock_pid=
cleanup() {
    if [ -n "$mock_pid" ] && kill -0 "$mock_pid" 2>/dev/null; then
        kill -TERM "$mock_pid" 2>/dev/null || true
        wait "$mock_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "selftest: FAIL: $*" >&2
    if [ -s "$work/mock.err" ]; then
        echo "--- mock stderr:" >&2
        cat "$work/mock.err" >&2
    fi
    exit 1
}

start=$(date +%s.%N)
exchanges="binance binanceusdm okx bybit kraken coinbase"

python3 -B "$here/make_creds.py" $exchanges > "$work/creds.json"
python3 -B "$here/mock.py" --creds "$work/creds.json" --dir "$work/mock" > "$work/mock.out" 2> "$work/mock.err" &
mock_pid=$!

for _ in $(seq 200); do
    [ -s "$work/mock/ports.json" ] && break
    kill -0 "$mock_pid" 2>/dev/null || fail "mock.py exited before writing ports.json"
    sleep 0.05
done
[ -s "$work/mock/ports.json" ] || fail "no ports.json after 10 s"
cmp -s <(head -n1 "$work/mock.out") "$work/mock/ports.json" || fail "stdout line differs from ports.json"

port_of() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/mock/ports.json" "$1"
}

# The six bots run at once (each exchange has its own port and key; ccxt's client-side
# throttle, not the mock, sets their pace: Kraken's takes ~10 s alone).
declare -A bot_pid
for ex in $exchanges; do
    python3 -B "$here/bot.py" --exchange "$ex" --direct "$(port_of "$ex")" \
        --ca "$work/mock/ca.pem" --creds "$work/creds.json" > "$work/$ex.out" 2> "$work/$ex.err" &
    bot_pid[$ex]=$!
done
for ex in $exchanges; do
    wait "${bot_pid[$ex]}" || fail "$ex: bot.py exited non-zero: $(cat "$work/$ex.out" "$work/$ex.err")"
    out=$(cat "$work/$ex.out")
    python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["ok"] is True, "scenario failed"
assert r["cancelled"] is True, "order not cancelled"
assert r["fetched_status"] == "open", "fetched order not open"
assert r["withdraw"]["ok"] is True, "withdraw refused by the mock: %r" % (r["withdraw"],)
assert r["balance"], "empty balance"
' "$out" || fail "$ex: unexpected result: $out"
    printf 'ok    %-12s full scenario direct: %s\n' "$ex" "$out"
done

# Every request of the scenarios above was authenticated or public; none refused.
python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
bad = [l for l in lines if l["verdict"] != "ok" or l["authenticated"] is False]
assert not bad, "refused requests in the positive runs: %r" % bad[:3]
print("ok    log          %d requests, all verified or public" % len(lines))
' "$work/mock/requests.jsonl" || fail "the positive runs logged refusals"

t_neg=$(date +%s.%N)
python3 -B "$here/negative.py" --ports "$work/mock/ports.json" --ca "$work/mock/ca.pem" \
    --creds "$work/creds.json" --log "$work/mock/requests.jsonl" || fail "negative checks"

printf "      negative checks took %.1f s\n" "$(echo "$(date +%s.%N) - $t_neg" | bc)"
kill -TERM "$mock_pid"
set +e
wait "$mock_pid"
rc=$?
set -e
mock_pid=
[ "$rc" -eq 0 ] || fail "mock.py exited $rc on SIGTERM"
echo "ok    mock         SIGTERM: clean exit"

printf 'selftest: ok (%.1f s)\n' "$(echo "$(date +%s.%N) - $start" | bc)"
