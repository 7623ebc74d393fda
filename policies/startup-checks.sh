#!/usr/bin/env bash
# Startup requirements of the seed policies: each case loads a policy with
# given secrets through `warden eval` and expects it to load (exit 0) or to be
# refused (exit 1) with the requirement's `because` text. Test files cannot
# expect a load failure yet (GAPS.md, G16).
# Usage: policies/startup-checks.sh   (WARDEN=path/to/warden to skip cargo)
set -u
cd "$(dirname "$0")"
WARDEN=${WARDEN:-"cargo run -q -p warden-cli --"}
REQ='{"principal":null,"action":"none:none","resource":{"type":"none","id":"x"}}'
pass=0 fail=0

# case NAME POLICY ENV EXPECT(load|"because text") SECRET=VALUE... (config:NAME=VALUE for settings)
case_() {
  local name=$1 policy=$2 env=$3 expect=$4; shift 4
  local args=()
  for s in "$@"; do
    case $s in config:*) args+=(--config "${s#config:}") ;; *) args+=(--secret "$s") ;; esac
  done
  local out rc
  # Only the policy's own secrets are passed; unset ones would be read from the environment.
  out=$(echo "$REQ" | env -i PATH="$PATH" HOME="$HOME" CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-}" \
        $WARDEN eval --policy "$policy" --env "$env" "${args[@]}" --request - 2>&1)
  rc=$?
  if [ "$expect" = load ]; then
    [ $rc -eq 0 ] && { pass=$((pass+1)); return; }
  else
    [ $rc -eq 1 ] && grep -qF -- "$expect" <<<"$out" && { pass=$((pass+1)); return; }
  fi
  fail=$((fail+1)); echo "FAIL $policy: $name (exit $rc)"; echo "$out" | head -5
}

# seed 000: ".env JWT_SECRET=dev-secret-key NEXTAUTH_SECRET=dev-nextauth-secret" never in production
L=(JWT_SECRET=prod-jwt-secret-0123456789abcdef0123 NEXTAUTH_SECRET=prod-nextauth-secret-0123456789ab)
case_ "production secrets load" lumira.warden production load "${L[@]}"
case_ "dev JWT_SECRET refused in production" lumira.warden production "JWT_SECRET must not be the development value in production" \
  JWT_SECRET=dev-secret-key NEXTAUTH_SECRET=prod-nextauth-secret-0123456789ab
case_ "dev NEXTAUTH_SECRET refused in production" lumira.warden production "NEXTAUTH_SECRET must not be the development value in production" \
  JWT_SECRET=prod-jwt-secret-0123456789abcdef0123 NEXTAUTH_SECRET=dev-nextauth-secret
case_ "dev secrets load in development" lumira.warden development load JWT_SECRET=dev-secret-key NEXTAUTH_SECRET=dev-nextauth-secret

# seed 001: "AUTH_SECRET is set and unique (min 32 chars)", "DATABASE_URL uses SSL connection",
# "Stripe webhook secret configured", "CRON_SECRET set for automated tasks"
M=(AUTH_SECRET=auth-secret-0123456789abcdef0123456789 CRON_SECRET=cron-0123456789 STRIPE_WEBHOOK_SECRET=whsec_0123456789 "DATABASE_URL=postgresql://l:p@db/l?sslmode=require")
case_ "checklist holds" lumiere.warden production load "${M[@]}"
case_ "AUTH_SECRET of 31 characters" lumiere.warden production "AUTH_SECRET is set and unique (min 32 chars)" \
  AUTH_SECRET=0123456789012345678901234567890 "${M[@]:1}"
case_ "DATABASE_URL without SSL" lumiere.warden production "DATABASE_URL uses SSL connection" \
  "${M[@]:0:3}" "DATABASE_URL=postgresql://l:p@db/l"
case_ "Stripe webhook secret not configured" lumiere.warden production "Stripe webhook secret configured" \
  "${M[@]:0:2}" STRIPE_WEBHOOK_SECRET=changeme "${M[@]:3}"
case_ "empty CRON_SECRET" lumiere.warden production "CRON_SECRET set for automated tasks" \
  "${M[@]:0:1}" CRON_SECRET= "${M[@]:2}"
case_ "CRON_SECRET unset in production" lumiere.warden production "CRON_SECRET set for automated tasks" \
  "${M[@]:0:1}" "${M[@]:2}"
case_ "development without CRON_SECRET and STRIPE_WEBHOOK_SECRET" lumiere.warden development load \
  "${M[@]:0:1}" "${M[@]:3}"
case_ "a live Stripe key in development" lumiere.warden development "Stripe keys: use test mode (sk_test_*) for development" \
  "${M[@]:0:1}" "${M[@]:3}" STRIPE_SECRET_KEY=sk_live_0123456789

# seed 002: the OIDC provider's keys must be given (Warden never fetches them);
# the public JWKS of nestflux.test.toml
case_ "a JWKS document loads" nestflux.warden production load \
  'OIDC_JWKS={"keys":[{"kty":"RSA","kid":"nestflux-test","use":"sig","alg":"RS256","n":"q_GaUjd-_JB8BGjnOaPiVuNhPNeSQYhfsXdM15qdvgaBEevCvtdrNABkCuGCW2BosexftTgeo4GDF41ZIr_fbnTKeOcYTOiZOZ3HBtNNTy5vCww3UUOzqQsjTno-PH5XYxO9OOpTXU-JwKjn9dWN6du0W_ItWqpU-NwHtydcZQ0CaQXs3a5ZzfJm4iOzSgw9AIlw8Q7_G73gnBmKqArtZhXwbbnmnNgH5MYZVg_SE75JCNiA9szMefig_VIHCh_shOMRXfDGzBhBYoCaHtu227qIJyzTY8AZV77V-MKHUis3mY0epn0d8Xj2ErISnjJ-afOahR4s-GqCOkX1j5JYgw","e":"AQAB"}]}'
case_ "not a JWKS document" nestflux.warden production "is not a JWKS document" OIDC_JWKS=not-json

# seed 003: HS256 JWT_SECRET and a separate refresh secret
S=(JWT_SECRET=jwt-secret-0123456789abcdef0123456789 JWT_REFRESH_SECRET=refresh-secret-0123456789abcdef012)
case_ "secrets hold" security-patterns.warden production load "${S[@]}"
case_ "short JWT_SECRET" security-patterns.warden production "JWT_SECRET must be at least 32 characters" \
  JWT_SECRET=short "${S[@]:1}"
case_ "refresh secret equal to the access secret" security-patterns.warden production "the refresh token must be signed with its own secret" \
  JWT_SECRET=jwt-secret-0123456789abcdef0123456789 JWT_REFRESH_SECRET=jwt-secret-0123456789abcdef0123456789

# seed 004: the deployment checklist
C=(BETTER_AUTH_SECRET=better-auth-secret-0123456789abcdef0 CLIENT_API_KEY=client-api-key-0123456789abcdef0123 config:CORS_ORIGIN=https://app.coaching.test
   "DATABASE_URL=postgresql://coaching_app:pw@db:5432/coaching_app" MINIO_ACCESS_KEY=minio-prod MINIO_SECRET_KEY=minio-prod-secret config:BETTER_AUTH_URL=https://api.coaching.test
   config:SMTP_SECURE=true config:SMTP_PORT=465)
case_ "checklist holds" coaching-app.warden production load "${C[@]}"
case_ "BETTER_AUTH_SECRET under 32 characters" coaching-app.warden production "BETTER_AUTH_SECRET must be random and 32+ characters" \
  BETTER_AUTH_SECRET=changeme "${C[@]:1}"
case_ "CLIENT_API_KEY under 32 characters" coaching-app.warden production "CLIENT_API_KEY must be random and 32+ characters" \
  "${C[@]:0:1}" CLIENT_API_KEY=abc "${C[@]:2}"
case_ "no CORS_ORIGIN in production" coaching-app.warden production "CORS_ORIGIN must be set" \
  "${C[@]:0:2}" config:CORS_ORIGIN= "${C[@]:3}"
case_ "postgres superuser" coaching-app.warden production "DATABASE_URL must use a dedicated app user" \
  "${C[@]:0:3}" "DATABASE_URL=postgresql://postgres:pw@db:5432/coaching_app" "${C[@]:4}"
case_ "default MinIO credentials" coaching-app.warden production "MinIO credentials must be changed from defaults" \
  "${C[@]:0:4}" MINIO_ACCESS_KEY=minioadmin MINIO_SECRET_KEY=minioadmin "${C[@]:6}"
case_ "http BETTER_AUTH_URL" coaching-app.warden production "BETTER_AUTH_URL=https://" \
  "${C[@]:0:6}" config:BETTER_AUTH_URL=http://api.coaching.test "${C[@]:7}"
case_ "development: CORS_ORIGIN may be empty" coaching-app.warden development load \
  "${C[@]:0:2}" config:CORS_ORIGIN= "${C[@]:3}"
case_ "SMTP without TLS" coaching-app.warden production "SMTP uses a verified TLS connection" \
  "${C[@]:0:7}" config:SMTP_SECURE=false config:SMTP_PORT=25
case_ "SMTP on port 587 (STARTTLS)" coaching-app.warden production load \
  "${C[@]:0:7}" config:SMTP_SECURE=false config:SMTP_PORT=587

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
