#!/usr/bin/env bash
# Fires the same transfer N times at once, all with one Idempotency-Key, at a running transfer
# service (start it with `mvn -B -q -DskipTests -Ptransfer package`), then prints the distinct
# responses with how often each came back, and both accounts' balances. Expect one response,
# N times, and the amount moved once.
#
#   scripts/transfer-retries.sh                          # 20 requests to http://localhost:8080
#   scripts/transfer-retries.sh -n 50 -u http://localhost:9090 -a 700
#
# Needs curl. The requests go only to the URL given (default: this machine).
set -euo pipefail

url=http://localhost:8080 n=20 from=alice to=bob amount=2500
while getopts "u:n:f:t:a:h" opt; do
  case "$opt" in
    u) url="$OPTARG" ;;
    n) n="$OPTARG" ;;
    f) from="$OPTARG" ;;
    t) to="$OPTARG" ;;
    a) amount="$OPTARG" ;;
    *) sed -n '2,9p' "$0"; exit 2 ;;
  esac
done
[[ "$n" =~ ^[1-9][0-9]{0,3}$ ]] || { echo "transfer-retries.sh: -n must be 1..9999" >&2; exit 2; }

before_from="$(curl -fsS "$url/accounts/$from")" && before_to="$(curl -fsS "$url/accounts/$to")" || {
  echo "transfer-retries.sh: no transfer service answers at $url (start it: mvn -B -q -DskipTests -Ptransfer package)" >&2
  exit 1
}
key="$(cat /proc/sys/kernel/random/uuid 2>/dev/null || date +%s%N)"
body="{\"from\":\"$from\",\"to\":\"$to\",\"amount\":$amount}"
echo "Before: $before_from  $before_to"
echo "POST $url/transfers  x$n at once  Idempotency-Key: $key  $body"
# -P runs all n curls in parallel. Each answer is collected first and printed with one write, so
# the lines of concurrent answers cannot interleave.
export url key body
seq "$n" | xargs -P "$n" -I{} bash -c 'answer="$(curl -sS --max-time 60 -w " (HTTP %{http_code})" \
    -H "Idempotency-Key: $key" -H "Content-Type: application/json" -d "$body" "$url/transfers")"; \
    printf "%s\n" "$answer"' \
  | sort | uniq -c
echo "After:  $(curl -fsS "$url/accounts/$from")  $(curl -fsS "$url/accounts/$to")"
