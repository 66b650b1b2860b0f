#!/usr/bin/env bash
# Service accounts and least-privilege grants, each on the one resource it is needed for.
#
#   worker-runtime    the worker (Cloud Run service, worker pool and jobs):
#                     subscriber on the <topic>-worker subscriptions, publisher on
#                     partition-completed, partition-requested and the dead-letter topics,
#                     objectViewer on the landing bucket, objectAdmin on the output bucket,
#                     secretAccessor on the push token secret. No project-wide role.
#   worker-scheduler  Cloud Scheduler's identity: run.invoker on the daily job only.
#   Pub/Sub agent     publisher on each dead-letter topic, subscriber on each source
#                     subscription (needed to forward dead letters).
#   Storage agent     publisher on file-arrived (bucket notifications).
#
# Run after deploy/pubsub/setup.sh. Grants are idempotent; re-run after deploying the daily
# job (deploy/cloudrun/deploy.sh) so the scheduler binding can be made.
#
#   PROJECT_ID=my-project LANDING_BUCKET=my-landing OUTPUT_BUCKET=my-output deploy/iam/setup.sh
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

require PROJECT_ID REGION LANDING_BUCKET OUTPUT_BUCKET

ensure_service_account() {
  local name="$1" display_name="$2"
  if exists gcloud iam service-accounts describe "$(sa_email "$name")" --project="$PROJECT_ID"; then
    echo "service account $(sa_email "$name") exists"
  else
    run gcloud iam service-accounts create "$name" --project="$PROJECT_ID" \
      --display-name="$display_name"
  fi
}

grant_on_topic() {
  run gcloud pubsub topics add-iam-policy-binding "$1" --project="$PROJECT_ID" \
    --member="$2" --role="$3"
}

grant_on_subscription() {
  run gcloud pubsub subscriptions add-iam-policy-binding "$1" --project="$PROJECT_ID" \
    --member="$2" --role="$3"
}

grant_on_bucket() {
  run gcloud storage buckets add-iam-policy-binding "gs://$1" --member="$2" --role="$3"
}

ensure_service_account "$RUNTIME_SA_NAME" "worker runtime (Cloud Run service, pool and jobs)"
ensure_service_account "$SCHEDULER_SA_NAME" "worker daily run trigger (Cloud Scheduler)"

runtime="serviceAccount:$(sa_email "$RUNTIME_SA_NAME")"
pubsub_agent="serviceAccount:$(pubsub_service_agent)"

for topic in "${CONSUMED_TOPICS[@]}"; do
  subscription="$(subscription_for "$topic")"
  dead_letter_topic="$(dead_letter_topic_for "$topic")"
  grant_on_subscription "$subscription" "$runtime" roles/pubsub.subscriber
  # Permanent failures are dead-lettered by the worker itself, with error attributes.
  grant_on_topic "$dead_letter_topic" "$runtime" roles/pubsub.publisher
  # The server-side dead-letter policy (the backstop) acts as the Pub/Sub service agent.
  grant_on_topic "$dead_letter_topic" "$pubsub_agent" roles/pubsub.publisher
  grant_on_subscription "$subscription" "$pubsub_agent" roles/pubsub.subscriber
done
grant_on_topic "$PARTITION_COMPLETED_TOPIC" "$runtime" roles/pubsub.publisher
# The replica (or Cloud Run Jobs task) that settles a backfill's last partition announces it.
grant_on_topic "$BACKFILL_COMPLETED_TOPIC" "$runtime" roles/pubsub.publisher
# A backfill request fans out into one partition-requested message per day.
grant_on_topic "$PARTITION_REQUESTED_TOPIC" "$runtime" roles/pubsub.publisher

grant_on_topic "$FILE_ARRIVED_TOPIC" "serviceAccount:$(storage_service_agent)" \
  roles/pubsub.publisher

grant_on_bucket "$LANDING_BUCKET" "$runtime" roles/storage.objectViewer
grant_on_bucket "$OUTPUT_BUCKET" "$runtime" roles/storage.objectAdmin

if exists gcloud secrets describe "$PUSH_TOKEN_SECRET" --project="$PROJECT_ID" ||
  [[ "$DRY_RUN" == "1" ]]; then
  run gcloud secrets add-iam-policy-binding "$PUSH_TOKEN_SECRET" --project="$PROJECT_ID" \
    --member="$runtime" --role=roles/secretmanager.secretAccessor
else
  echo "note: secret $PUSH_TOKEN_SECRET does not exist yet; create it (docs/deploy.md) and re-run"
fi

if exists gcloud run jobs describe "$DAILY_JOB_NAME" --project="$PROJECT_ID" --region="$REGION" ||
  [[ "$DRY_RUN" == "1" ]]; then
  run gcloud run jobs add-iam-policy-binding "$DAILY_JOB_NAME" --project="$PROJECT_ID" \
    --region="$REGION" --member="serviceAccount:$(sa_email "$SCHEDULER_SA_NAME")" \
    --role=roles/run.invoker
else
  echo "note: job $DAILY_JOB_NAME is not deployed yet; re-run after deploy/cloudrun/deploy.sh"
fi
