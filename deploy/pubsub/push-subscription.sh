#!/usr/bin/env bash
# Push variant: Pub/Sub delivers each message as an authenticated HTTPS POST to the worker
# service's /pubsub/push endpoint instead of the service pulling.
#
# Deploy the service in push mode first (`deploy/cloudrun/deploy.sh push`: WORKER_DELIVERY=push,
# so it pulls nothing and serves /pubsub/push); a pull-mode service answers pushes with 404.
# The existing <topic>-worker subscriptions are switched to push in place, so their
# dead-letter and retry policies (deploy/pubsub/setup.sh) stay as they are.
#   - OIDC: Pub/Sub signs each request as the worker-push service account; the service is
#     deployed without public access and only that account holds run.invoker on it, so Cloud
#     Run rejects any other caller before the worker sees the request.
#   - Shared secret: the endpoint also carries ?token=<WORKER_PUSH_AUTH_TOKEN>, read from
#     Secret Manager; the service compares it with its own copy of the same secret.
#   - The ack deadline becomes the request timeout, so it is raised to the maximum (600 s);
#     the service's request timeout in deploy/cloudrun/service-push.yaml matches it.
#   - Status codes: 204 acks (processed, ignored, or dead-lettered by the worker); 503 nacks and
#     the subscription's retry and dead-letter policies take over (docs/service.md).
# Switch back to pull with: gcloud pubsub subscriptions modify-push-config SUB --push-endpoint=""
# (and --ack-deadline back to WORKER_ACK_DEADLINE_S), then `deploy/cloudrun/deploy.sh service`.
#
#   PROJECT_ID=my-project REGION=europe-west1 deploy/pubsub/push-subscription.sh
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

require PROJECT_ID REGION
PUSH_PATH="/pubsub/push"
PUSH_ACK_DEADLINE_S="${PUSH_ACK_DEADLINE_S:-600}"

push_sa="$(sa_email "$PUSH_SA_NAME")"
if exists gcloud iam service-accounts describe "$push_sa" --project="$PROJECT_ID"; then
  echo "service account $push_sa exists"
else
  run gcloud iam service-accounts create "$PUSH_SA_NAME" --project="$PROJECT_ID" \
    --display-name="Pub/Sub push identity for the worker service"
fi

# Only the push identity may invoke the service.
run gcloud run services add-iam-policy-binding "$SERVICE_NAME" --project="$PROJECT_ID" \
  --region="$REGION" --member="serviceAccount:$push_sa" --role=roles/run.invoker
# Pub/Sub mints the OIDC tokens for that identity.
run gcloud iam service-accounts add-iam-policy-binding "$push_sa" --project="$PROJECT_ID" \
  --member="serviceAccount:$(pubsub_service_agent)" --role=roles/iam.serviceAccountTokenCreator

if [[ "$DRY_RUN" == "1" ]]; then
  service_url="https://SERVICE_URL"
  token="SECRET_TOKEN"
else
  service_url="$(gcloud run services describe "$SERVICE_NAME" --project="$PROJECT_ID" \
    --region="$REGION" --format='value(status.url)')"
  token="$(gcloud secrets versions access latest --secret="$PUSH_TOKEN_SECRET" \
    --project="$PROJECT_ID")"
fi
[[ -n "$service_url" ]] || die "service $SERVICE_NAME in $REGION has no URL; deploy it first"
[[ -n "$token" ]] || die "secret $PUSH_TOKEN_SECRET is empty"

for topic in "${CONSUMED_TOPICS[@]}"; do
  subscription="$(subscription_for "$topic")"
  run gcloud pubsub subscriptions modify-push-config "$subscription" --project="$PROJECT_ID" \
    --push-endpoint="${service_url}${PUSH_PATH}?token=${token}" \
    --push-auth-service-account="$push_sa" \
    --push-auth-token-audience="$service_url"
  run gcloud pubsub subscriptions update "$subscription" --project="$PROJECT_ID" \
    --ack-deadline="$PUSH_ACK_DEADLINE_S"
  echo "$subscription now pushes to ${service_url}${PUSH_PATH}"
done
