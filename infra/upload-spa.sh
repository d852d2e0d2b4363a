#!/usr/bin/env bash
# Uploads the built SPA (frontend/dist) to the frontend bucket of stack seatwise-ENV, with its config.json, and
# invalidates CloudFront's copies of the files that are not content-hashed.
#
#   infra/upload-spa.sh ENV          # ENV = dev | prod | …; `make deploy ENV=…` runs it after sam deploy
#
# Needs: the AWS CLI (v1 or v2) with credentials for the stack's account, the stack seatwise-ENV deployed, and the
# SPA built (`make frontend`, i.e. `cd frontend && npm run build`). Region: AWS_REGION, else AWS_DEFAULT_REGION, else
# `aws configure get region`.
#
# Steps:
#   1. reads the stack outputs ApiUrl, UserPoolId, UserPoolClientId, CognitoDomain, FrontendBucketName, DistributionId
#      (and prints CloudFrontUrl);
#   2. writes frontend/dist/config.json:
#      {"auth":"cognito","region","userPoolId","clientId","domain","apiUrl"} (apiUrl without a trailing slash);
#   3. syncs frontend/dist to the bucket, deleting what the build no longer has: assets/ (Vite's content-hashed
#      files) first, cached for a year as immutable; index.html and config.json after them with
#      `Cache-Control: no-cache`, so a browser never loads an index.html whose assets are not there yet; stale
#      assets are deleted last;
#   4. invalidates /index.html, /config.json and / (CloudFront caches the root object under "/") and prints the
#      invalidation id; it completes within minutes (`aws cloudfront wait invalidation-completed` to wait).
set -euo pipefail

usage() {
  echo "usage: $0 ENV   (uploads frontend/dist to the frontend bucket of stack seatwise-ENV)" >&2
  exit 2
}
die() {
  echo "upload-spa: $*" >&2
  exit 1
}

[[ $# -eq 1 ]] || usage
env_name=$1
[[ $env_name =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "ENV must be lower-case letters, digits and dashes (got '$env_name')"
stack="seatwise-$env_name"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dist="$root/frontend/dist"
[[ -f $dist/index.html && -d $dist/assets ]] || die "$dist has no built SPA: run 'make frontend' first"
command -v aws >/dev/null || die "the AWS CLI (aws) is not on PATH"

region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
if [[ -z $region ]]; then
  region=$(aws configure get region || true)
fi
[[ -n $region ]] || die "no AWS region: set AWS_REGION or run 'aws configure set region …'"
[[ $region =~ ^[a-z0-9-]+$ ]] || die "region looks wrong: '$region'"

# ---- 1. stack outputs (one "key<TAB>value" line each)
echo "reading the outputs of stack $stack in $region"
outputs=$(aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
  --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text) ||
  die "cannot describe stack $stack in $region"

# output NAME PATTERN: the value of stack output NAME, which must match PATTERN (so it is safe to put in JSON as is).
output() {
  local v
  v=$(awk -F '\t' -v k="$1" '$1 == k { print $2; exit }' <<<"$outputs")
  [[ -n $v && $v != None ]] || die "stack $stack has no output $1"
  [[ $v =~ $2 ]] || die "stack output $1 looks wrong: '$v'"
  printf '%s' "$v"
}
api_url=$(output ApiUrl '^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$')
while [[ $api_url == */ ]]; do api_url=${api_url%/}; done
user_pool_id=$(output UserPoolId '^[a-z0-9-]+_[A-Za-z0-9]+$')
client_id=$(output UserPoolClientId '^[A-Za-z0-9]+$')
domain=$(output CognitoDomain '^[A-Za-z0-9.-]+$')
bucket=$(output FrontendBucketName '^[a-z0-9][a-z0-9.-]+$')
distribution_id=$(output DistributionId '^[A-Z0-9]+$')
site_url=$(awk -F '\t' '$1 == "CloudFrontUrl" { print $2; exit }' <<<"$outputs")

# ---- 2. config.json
printf '{"auth":"cognito","region":"%s","userPoolId":"%s","clientId":"%s","domain":"%s","apiUrl":"%s"}\n' \
  "$region" "$user_pool_id" "$client_id" "$domain" "$api_url" >"$dist/config.json"
echo "wrote $dist/config.json: $(<"$dist/config.json")"

# ---- 3. upload
long_cache='public, max-age=31536000, immutable'
short_cache='public, max-age=300'
no_cache='no-cache'
s3="s3://$bucket"

echo "uploading $dist to $s3"
# Hashed assets first, keeping the old ones until the new index.html is in place.
aws s3 sync "$dist/assets" "$s3/assets" --region "$region" --no-progress --cache-control "$long_cache"
# Anything else the build has besides assets/, index.html and config.json (files from public/: not hashed).
aws s3 sync "$dist" "$s3" --region "$region" --no-progress --delete \
  --exclude 'assets/*' --exclude index.html --exclude config.json --cache-control "$short_cache"
aws s3 cp "$dist/config.json" "$s3/config.json" --region "$region" --no-progress \
  --cache-control "$no_cache" --content-type 'application/json'
aws s3 cp "$dist/index.html" "$s3/index.html" --region "$region" --no-progress \
  --cache-control "$no_cache" --content-type 'text/html; charset=utf-8'
# Now the assets no index.html refers to any more can go.
aws s3 sync "$dist/assets" "$s3/assets" --region "$region" --no-progress --delete --cache-control "$long_cache"

# ---- 4. CloudFront
invalidation=$(aws cloudfront create-invalidation --distribution-id "$distribution_id" \
  --paths /index.html /config.json / --query 'Invalidation.Id' --output text)
echo "CloudFront invalidation $invalidation of /index.html /config.json / on distribution $distribution_id"
echo "done: ${site_url:-the SPA} (API $api_url)"
