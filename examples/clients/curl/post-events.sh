#!/usr/bin/env bash
# Post OCSF events to an `ocsf-firehose serve` agent with curl.
#
#   examples/clients/curl/post-events.sh EVENTS.jsonl [URL]
#
# One request of JSON lines, gzipped; the answer (one entry per event: accepted, rejected with
# the Lambda's findings, or retry) is printed. The exit status is curl's: 0 only for 200 (every
# event accepted); 22 for any other status (422: some events rejected; 429/503: send again after
# Retry-After; a 429 or 503 whose answer has "accepted":0 took nothing and can be sent again
# whole, otherwise send again only the events marked "retry", as the Python and Node clients do).
# The token, if the agent wants one, comes from OCSF_FIREHOSE_TOKEN.
set -euo pipefail
events="${1:?usage: post-events.sh EVENTS.jsonl [URL]}"
url="${2:-http://127.0.0.1:8088}"
auth=()
if [ -n "${OCSF_FIREHOSE_TOKEN:-}" ]; then
  auth=(-H "Authorization: Bearer ${OCSF_FIREHOSE_TOKEN}")
fi
gzip -c "$events" | curl --silent --show-error --fail-with-body "${auth[@]}" \
  -H 'Content-Type: application/x-ndjson' -H 'Content-Encoding: gzip' \
  --data-binary @- "$url/v1/events"
echo
