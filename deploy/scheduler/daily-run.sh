#!/usr/bin/env bash
# Cloud Scheduler runs the daily Cloud Run Job (deploy/cloudrun/job-daily.yaml) every day.
#
# Scheduler calls the Cloud Run Admin API's jobs.run as the worker-scheduler service account,
# which holds run.invoker on that one job (deploy/iam/setup.sh). The job itself works out
# which day to process, so the request carries no body and a late or repeated trigger is
# harmless: a partition already committed with the same inputs is skipped.
#
#   PROJECT_ID=my-project REGION=europe-west1 deploy/scheduler/daily-run.sh
#   SCHEDULE="15 3 * * *" TIME_ZONE=Europe/Paris deploy/scheduler/daily-run.sh
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

require PROJECT_ID REGION
SCHEDULER_JOB_NAME="${SCHEDULER_JOB_NAME:-worker-daily-run}"
SCHEDULE="${SCHEDULE:-30 2 * * *}"
TIME_ZONE="${TIME_ZONE:-Etc/UTC}"

run_uri="https://run.googleapis.com/v2/projects/${PROJECT_ID}/locations/${REGION}/jobs/${DAILY_JOB_NAME}:run"
# jobs.run is a Google API call, so Scheduler sends an OAuth access token (not an OIDC token).
trigger_flags=(
  --project="$PROJECT_ID"
  --location="$REGION"
  --schedule="$SCHEDULE"
  --time-zone="$TIME_ZONE"
  --uri="$run_uri"
  --http-method=POST
  --oauth-service-account-email="$(sa_email "$SCHEDULER_SA_NAME")"
  --oauth-token-scope=https://www.googleapis.com/auth/cloud-platform
  --attempt-deadline=180s
)

if exists gcloud scheduler jobs describe "$SCHEDULER_JOB_NAME" --project="$PROJECT_ID" \
  --location="$REGION"; then
  run gcloud scheduler jobs update http "$SCHEDULER_JOB_NAME" "${trigger_flags[@]}"
else
  run gcloud scheduler jobs create http "$SCHEDULER_JOB_NAME" "${trigger_flags[@]}" \
    --description="Runs Cloud Run job $DAILY_JOB_NAME (worker run, yesterday's partition)"
fi
