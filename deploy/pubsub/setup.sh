#!/usr/bin/env bash
# Pub/Sub topics, subscriptions, dead-letter topics and the Cloud Storage notification.
#
# The same resources `worker setup` provisions, as gcloud commands for projects where the
# deployer prefers a reviewed script (or has no Python). Safe to re-run: existing topics are
# kept, existing subscriptions are updated to the policy below.
#
#   PROJECT_ID=my-project LANDING_BUCKET=my-landing deploy/pubsub/setup.sh
#   DRY_RUN=1 PROJECT_ID=my-project LANDING_BUCKET=my-landing deploy/pubsub/setup.sh   # plan only
#
# Optional: LANDING_PREFIX (only objects under it notify), the WORKER_TOPIC_* names, and the
# delivery policy WORKER_MAX_DELIVERY_ATTEMPTS, WORKER_RETRY_MIN_BACKOFF_S,
# WORKER_RETRY_MAX_BACKOFF_S, WORKER_ACK_DEADLINE_S (same names and defaults as the worker).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

require PROJECT_ID LANDING_BUCKET
LANDING_PREFIX="${LANDING_PREFIX:-}"
# Unacked messages are kept for a week: long enough to survive a long outage, then replayed.
RETENTION="${RETENTION:-7d}"

topic_path() { printf 'projects/%s/topics/%s' "$PROJECT_ID" "$1"; }

ensure_topic() {
  local topic="$1"
  if exists gcloud pubsub topics describe "$topic" --project="$PROJECT_ID"; then
    echo "topic $topic exists"
  else
    run gcloud pubsub topics create "$topic" --project="$PROJECT_ID"
  fi
}

# ensure_subscription SUB TOPIC [FLAGS...]: create it, or bring an existing one to FLAGS.
ensure_subscription() {
  local subscription="$1" topic="$2"
  shift 2
  if exists gcloud pubsub subscriptions describe "$subscription" --project="$PROJECT_ID"; then
    run gcloud pubsub subscriptions update "$subscription" --project="$PROJECT_ID" "$@"
  else
    run gcloud pubsub subscriptions create "$subscription" --project="$PROJECT_ID" \
      --topic="$topic" "$@"
  fi
}

for topic in "${CONSUMED_TOPICS[@]}"; do
  dead_letter_topic="$(dead_letter_topic_for "$topic")"
  ensure_topic "$topic"
  ensure_topic "$dead_letter_topic"
  # Dead letters are kept by their own subscription, never expiring, so nothing is lost
  # before an operator inspects or replays it.
  ensure_subscription "$(dead_letter_keep_for "$topic")" "$dead_letter_topic" \
    --ack-deadline="$ACK_DEADLINE_S" \
    --message-retention-duration="$RETENTION" \
    --expiration-period=never
  ensure_subscription "$(subscription_for "$topic")" "$topic" \
    --ack-deadline="$ACK_DEADLINE_S" \
    --dead-letter-topic="$(topic_path "$dead_letter_topic")" \
    --max-delivery-attempts="$MAX_DELIVERY_ATTEMPTS" \
    --min-retry-delay="${RETRY_MIN_BACKOFF_S}s" \
    --max-retry-delay="${RETRY_MAX_BACKOFF_S}s" \
    --message-retention-duration="$RETENTION" \
    --expiration-period=never
done

# Published by the worker for downstream consumers; the worker itself does not subscribe.
ensure_topic "$PARTITION_COMPLETED_TOPIC"
ensure_topic "$BACKFILL_COMPLETED_TOPIC"

# Cloud Storage announces every finished upload in the landing bucket on file-arrived.
notification_topics="$(
  [[ "$DRY_RUN" == "1" ]] ||
    gcloud storage buckets notifications list "gs://$LANDING_BUCKET" --format='value(topic)'
)"
# The notification is published by Cloud Storage's service agent, so it needs publisher
# rights first (deploy/iam/setup.sh grants the same binding; repeating it is harmless).
run gcloud pubsub topics add-iam-policy-binding "$FILE_ARRIVED_TOPIC" --project="$PROJECT_ID" \
  --member="serviceAccount:$(storage_service_agent)" --role=roles/pubsub.publisher
if grep -q "/topics/$FILE_ARRIVED_TOPIC\$" <<<"$notification_topics"; then
  echo "gs://$LANDING_BUCKET already notifies $FILE_ARRIVED_TOPIC"
else
  prefix_flag=()
  [[ -z "$LANDING_PREFIX" ]] || prefix_flag=(--object-prefix="$LANDING_PREFIX")
  run gcloud storage buckets notifications create "gs://$LANDING_BUCKET" \
    --topic="$(topic_path "$FILE_ARRIVED_TOPIC")" \
    --event-types=OBJECT_FINALIZE \
    --payload-format=json \
    "${prefix_flag[@]}"
fi
