#!/usr/bin/env bash
# Usage: scripts/deploy-scf.sh [scf deploy arguments...]
#
# Deploys ccc-enricher to Tencent Cloud SCF from serverless.yml with Tencent's
# Serverless Framework CLI, `scf` (npm i -g serverless-cloud-framework). It
# builds dist/scf (scripts/build.sh amd64), checks the configuration the
# function needs, then runs `scf deploy` with the given arguments (for
# example --debug). Not run in CI: it deploys to a real account.
#
# Deployer credentials: TENCENT_SECRET_ID and TENCENT_SECRET_KEY (plus
# TENCENT_TOKEN for temporary keys) in the environment or in .env, or the
# CLI's QR-code login when they are absent.
#
# Function configuration (see docs/DEPLOY.md):
#   required: PUSH_AUTH (none|basic|oauth2), CCC_SDK_APP_IDS, SINK
#   PUSH_AUTH=basic:   PUSH_BASIC_USERNAME, PUSH_BASIC_PASSWORD
#   PUSH_AUTH=oauth2:  PUSH_OAUTH_CLIENT_ID, PUSH_OAUTH_CLIENT_SECRET
#   SINK=webhook:      WEBHOOK_URL, WEBHOOK_SECRET
#   optional:          CCC_ENDPOINT (empty: the function's default endpoint)
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_command scf "the scf CLI is missing; install it with: npm i -g serverless-cloud-framework"

need() {
	local name
	for name in "$@"; do
		if [ -z "${!name:-}" ]; then
			echo "deploy-scf: $name is required" >&2
			exit 1
		fi
	done
}
need PUSH_AUTH CCC_SDK_APP_IDS SINK
case $PUSH_AUTH in
basic) need PUSH_BASIC_USERNAME PUSH_BASIC_PASSWORD ;;
oauth2) need PUSH_OAUTH_CLIENT_ID PUSH_OAUTH_CLIENT_SECRET ;;
none) echo "deploy-scf: warning: PUSH_AUTH=none accepts pushes from anyone who knows the URL" >&2 ;;
*)
	echo "deploy-scf: PUSH_AUTH must be none, basic or oauth2" >&2
	exit 1
	;;
esac
if [ "$SINK" = webhook ]; then
	need WEBHOOK_URL WEBHOOK_SECRET
fi

# serverless.yml reads every variable with ${env:...}: define the optional
# ones so that none is left unresolved.
export CCC_ENDPOINT=${CCC_ENDPOINT:-}
export PUSH_BASIC_USERNAME=${PUSH_BASIC_USERNAME:-} PUSH_BASIC_PASSWORD=${PUSH_BASIC_PASSWORD:-}
export PUSH_OAUTH_CLIENT_ID=${PUSH_OAUTH_CLIENT_ID:-} PUSH_OAUTH_CLIENT_SECRET=${PUSH_OAUTH_CLIENT_SECRET:-}
export WEBHOOK_URL=${WEBHOOK_URL:-} WEBHOOK_SECRET=${WEBHOOK_SECRET:-}

scripts/build.sh amd64
if [ ! -x dist/scf/bootstrap ]; then
	echo "deploy-scf: dist/scf/bootstrap was not built" >&2
	exit 1
fi
exec scf deploy "$@"
