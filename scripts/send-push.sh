#!/usr/bin/env bash
# Usage: scripts/send-push.sh URL [BODY_FILE]
#
# Sends a CCC data push to URL the way CCC does: POST URL?action=cdr&version=1
# with a JSON body and a fresh X-TCCC-PUSH-UUID header, then prints the
# reply ({"ErrCode":0,"ErrMsg":"ok"} when accepted) and fails unless the
# status is 2xx. URL is the function's push address, e.g.
# https://<api>/push or http://127.0.0.1:9000/push for the local server.
# BODY_FILE defaults to the sample push of the ACTION kind that a local
# server with CCC_ENDPOINT=emulator wrote, timed to match its emulator's
# session, in ${TMPDIR:-/tmp}/ccc-enricher-samples/; else to the CDR
# sample in internal/tcemu/samples/push-cdr.json (from 2025: past the CCC API's
# 180-day window, so a real deployment answers it with ErrCode 50202).
#
# Environment:
#   ACTION           push kind, the action parameter (default cdr)
#   PUSH_UUID        X-TCCC-PUSH-UUID (default: a new random UUID); reuse
#                    one to play a CCC retry
#   BASIC_USER, BASIC_PASSWORD   basic authentication (PUSH_AUTH=basic)
#   BEARER_TOKEN     bearer token (PUSH_AUTH=oauth2 with a token at hand)
#   OAUTH_TOKEN_URL, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET
#                    fetch a bearer token first with the client-credentials
#                    grant, as CCC does (PUSH_AUTH=oauth2)
set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: scripts/send-push.sh URL [BODY_FILE]" >&2
	exit 2
fi
url=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
action=${ACTION:-cdr}
body=${2:-${TMPDIR:-/tmp}/ccc-enricher-samples/push-$action.json}
if [ $# -lt 2 ] && [ ! -f "$body" ]; then
	body=$root/internal/tcemu/samples/push-cdr.json
fi
if [ ! -f "$body" ]; then
	echo "send-push: no body file $body" >&2
	exit 2
fi

uuid=${PUSH_UUID:-}
if [ -z "$uuid" ]; then
	if [ -r /proc/sys/kernel/random/uuid ]; then
		uuid=$(cat /proc/sys/kernel/random/uuid)
	else
		uuid=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n' | sed -E 's/(.{8})(.{4})(.{4})(.{4})(.{12})/\1-\2-\3-\4-\5/')
	fi
fi

# CCC adds version=1 to cdr and record pushes; voicemail pushes come without
# it (?action=voicemail).
version="&version=1"
[ "$action" = voicemail ] && version=""
case $url in
*\?*) url="$url&action=$action$version" ;;
*) url="$url?action=$action$version" ;;
esac

# Credentials go to curl through a config on standard input, not through
# its arguments, which other local users can read in the process list.
quote() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}
if [ -n "${OAUTH_TOKEN_URL:-}" ]; then
	: "${OAUTH_CLIENT_ID:?OAUTH_CLIENT_ID is required with OAUTH_TOKEN_URL}" "${OAUTH_CLIENT_SECRET:?OAUTH_CLIENT_SECRET is required with OAUTH_TOKEN_URL}"
	token_reply=$(printf 'user = %s\n' "$(quote "$OAUTH_CLIENT_ID:$OAUTH_CLIENT_SECRET")" |
		curl -sS --fail-with-body -K - -X POST -d grant_type=client_credentials "$OAUTH_TOKEN_URL")
	BEARER_TOKEN=$(printf '%s' "$token_reply" | sed -n 's/.*"access_token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
	if [ -z "$BEARER_TOKEN" ]; then
		echo "send-push: the token endpoint returned no access_token" >&2
		exit 1
	fi
fi
config=""
if [ -n "${BEARER_TOKEN:-}" ]; then
	config="header = $(quote "Authorization: Bearer $BEARER_TOKEN")"
elif [ -n "${BASIC_USER:-}" ]; then
	config="user = $(quote "$BASIC_USER:${BASIC_PASSWORD:-}")"
fi

echo "POST $url (X-TCCC-PUSH-UUID: $uuid)" >&2
printf '%s\n' "$config" | curl -sS --fail-with-body -K - -X POST \
	-H 'Content-Type: application/json;charset=utf8' \
	-H "X-TCCC-PUSH-UUID: $uuid" \
	--data-binary "@$body" "$url"
echo
