#!/usr/bin/env python3
"""Monthly cost of trailguard for a typical account, computed, not typed.

Prints a Markdown table for the README ("Before you deploy"); run by
scripts/update-docs.sh. Every price is AWS's public on-demand price in
us-east-1 with its source; every volume is a named assumption below.
Change the assumptions to your account's and run: python3 scripts/cost.py
"""
import sys

# --- Assumptions: a typical small-to-medium account --------------------------
MANAGEMENT_EVENTS = 300_000      # management events per month, all regions
REGIONS = 1                      # regions with a trailguard stack (us-east-1 at least)
RECONCILE_MINUTES = 5            # reconcile schedule (context reconcileMinutes)
MEMORY_GB = 256 / 1024           # the responder's memory (256 MB)
SECONDS_PER_INVOCATION = 1.0     # generous: a reconcile reads the trail, bucket, key, rules
LOG_KB_PER_INVOCATION = 2.0      # the JSON report line plus Lambda's START/END/REPORT
TAMPER_EVENTS = 100              # matched calls per month (each is one invocation)
ALARMS = 4                       # errors, throttles, dead letters, failed invocations
HOURS = 730                      # hours in a month, as AWS prices

# --- Prices (USD, us-east-1) -------------------------------------------------
# https://aws.amazon.com/cloudtrail/pricing/ : the first copy of management
# events is free; each additional copy $2.00 per 100,000 events.
TRAIL_EXTRA_COPY_PER_EVENT = 2.00 / 100_000
# https://aws.amazon.com/eventbridge/pricing/ : events from AWS services on
# the default bus (CloudTrail's included) are free; scheduled rules too.
EVENTBRIDGE_AWS_EVENTS = 0.0
# https://aws.amazon.com/lambda/pricing/ : arm64, $0.20 per 1M requests,
# $0.0000133334 per GB-second (before the free tier of 1M requests and
# 400,000 GB-seconds a month, not counted here).
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_PER_GB_SECOND = 0.0000133334
# https://aws.amazon.com/cloudwatch/pricing/ : logs $0.50 per GB ingested,
# $0.03 per GB-month stored; standard alarms $0.10 per alarm-month.
LOGS_PER_GB = 0.50
LOGS_STORED_PER_GB_MONTH = 0.03
ALARM_PER_MONTH = 0.10
# https://aws.amazon.com/kms/pricing/ : $1 per key-month (kms=true only).
KMS_KEY_PER_MONTH = 1.00


def main():
    invocations = REGIONS * (HOURS * 60 / RECONCILE_MINUTES) + TAMPER_EVENTS
    gb_seconds = invocations * MEMORY_GB * SECONDS_PER_INVOCATION
    lambda_cost = invocations * LAMBDA_PER_REQUEST + gb_seconds * LAMBDA_PER_GB_SECOND
    log_gb = invocations * LOG_KB_PER_INVOCATION / 1024 / 1024
    # The log group keeps a year: after twelve months, twelve months are stored.
    logs_cost = log_gb * LOGS_PER_GB + 12 * log_gb * LOGS_STORED_PER_GB_MONTH
    alarms_cost = REGIONS * ALARMS * ALARM_PER_MONTH
    second_trail = MANAGEMENT_EVENTS * TRAIL_EXTRA_COPY_PER_EVENT

    rows = [
        ("Trail: protect the existing one (`existingTrail`)", "no new trail: no CloudTrail charge", 0.0),
        ("Trail: `createTrail=true` in an account that already has one",
         f"a second copy of {MANAGEMENT_EVENTS:,} management events at $2.00 per 100,000", second_trail),
        ("EventBridge rules and schedule", "CloudTrail's events and schedules on the default bus are free", EVENTBRIDGE_AWS_EVENTS),
        ("Lambda", f"{invocations:,.0f} invocations ({REGIONS} region(s), every {RECONCILE_MINUTES} min, plus {TAMPER_EVENTS} tamper events), "
                   f"{gb_seconds:,.0f} GB-s at 256 MB and {SECONDS_PER_INVOCATION:g} s each, before the free tier", lambda_cost),
        ("CloudWatch Logs", f"{log_gb * 1024:,.1f} MB a month ingested, a year kept", logs_cost),
        ("CloudWatch alarms", f"{ALARMS * REGIONS} alarms", alarms_cost),
        ("KMS (`kms=true` only)", "one key", KMS_KEY_PER_MONTH),
    ]
    base = lambda_cost + logs_cost + alarms_cost
    out = sys.stdout
    out.write("| item | how it is computed | USD per month |\n|---|---|---|\n")
    for item, how, usd in rows:
        out.write(f"| {item} | {how} | {usd:.2f} |\n")
    out.write(f"| **total, protecting the existing trail** | Lambda + logs + alarms | **{base:.2f}** |\n")
    out.write(f"| **total, creating a second trail** | the same + the second copy of events | **{base + second_trail:.2f}** |\n")


if __name__ == "__main__":
    main()
