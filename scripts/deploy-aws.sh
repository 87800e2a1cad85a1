#!/usr/bin/env bash
# Usage: scripts/deploy-aws.sh [--guided] [sam deploy arguments...]
#
# Deploys ccc-enricher to AWS Lambda from template.yaml with the AWS SAM CLI.
# It builds the package for ARCH (scripts/build.sh), stages it as
# dist/aws/bootstrap.zip (the template's CodeUri), then runs `sam deploy`.
# With --guided, sam asks for every parameter and can save the answers in
# samconfig.toml; otherwise the parameters come from the environment below.
# Not run in CI: it deploys to a real account.
#
# Environment:
#   ARCH                     arm64 (default) or x86_64
#   STACK_NAME               CloudFormation stack (default ccc-enricher)
#   TENCENTCLOUD_SECRET_ARN  Secrets Manager secret with the Tencent key pair,
#                            {"SecretId":"…","SecretKey":"…"}
#   CCC_SDK_APP_IDS, PUSH_AUTH, PUSH_BASIC_USERNAME, PUSH_BASIC_PASSWORD,
#   PUSH_OAUTH_CLIENT_ID, PUSH_OAUTH_CLIENT_SECRET, CCC_ENDPOINT, SINK,
#   WEBHOOK_URL, WEBHOOK_SECRET, ENABLE_FUNCTION_URL (true|false),
#   LOG_RETENTION_DAYS       the template parameters of the same meaning;
#                            unset ones keep the template's defaults
#
# Parameters given on the command line are visible to other local users in
# the process list: prefer --guided with samconfig.toml for the secrets.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_command sam "the AWS SAM CLI (sam) is missing; see https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html"

arch=${ARCH:-arm64}
case $arch in
arm64) goarch=arm64 ;;
x86_64) goarch=amd64 ;;
*)
	echo "deploy-aws: ARCH must be arm64 or x86_64" >&2
	exit 1
	;;
esac

scripts/build.sh "$goarch"
cp "dist/aws/bootstrap-$goarch.zip" dist/aws/bootstrap.zip

overrides=("Architecture=$arch")
param() {
	if [ -n "${2:-}" ]; then
		overrides+=("$1=$2")
	fi
}
param TencentSecretArn "${TENCENTCLOUD_SECRET_ARN:-}"
param CccSdkAppIds "${CCC_SDK_APP_IDS:-}"
param PushAuth "${PUSH_AUTH:-}"
param PushBasicUsername "${PUSH_BASIC_USERNAME:-}"
param PushBasicPassword "${PUSH_BASIC_PASSWORD:-}"
param PushOAuthClientId "${PUSH_OAUTH_CLIENT_ID:-}"
param PushOAuthClientSecret "${PUSH_OAUTH_CLIENT_SECRET:-}"
param CccEndpoint "${CCC_ENDPOINT:-}"
param Sink "${SINK:-}"
param WebhookUrl "${WEBHOOK_URL:-}"
param WebhookSecret "${WEBHOOK_SECRET:-}"
param EnableFunctionUrl "${ENABLE_FUNCTION_URL:-}"
param LogRetentionInDays "${LOG_RETENTION_DAYS:-}"

exec sam deploy \
	--template-file template.yaml \
	--stack-name "${STACK_NAME:-ccc-enricher}" \
	--capabilities CAPABILITY_IAM \
	--resolve-s3 \
	--no-fail-on-empty-changeset \
	--parameter-overrides "${overrides[@]}" \
	"$@"
