from django.db import migrations

# The default rules operations start with; staff edit or disable them in the admin.
DEFAULT_RULES = [
    {
        "name": "Queue depth high",
        "description": "More than 100 messages are waiting in a Celery queue.",
        "metric": "queue_depth",
        "comparison": "gt",
        "threshold": 100,
        "for_seconds": 120,
        "severity": "high",
    },
    {
        "name": "Mean processing time high",
        "description": "Analyses finished in the window took more than 300 s on average.",
        "metric": "analysis_mean_processing_seconds",
        "comparison": "gt",
        "threshold": 300,
        "window_seconds": 900,
        "severity": "high",
    },
    {
        "name": "Failure rate high",
        "description": "More than 5 % of the analyses finished in the window failed.",
        "metric": "analysis_failure_rate",
        "comparison": "gt",
        "threshold": 5,
        "window_seconds": 900,
        "severity": "high",
    },
    {
        "name": "Analysis success rate low",
        "description": "Fewer than 95 % of the analyses finished in the window succeeded.",
        "metric": "analysis_success_rate",
        "comparison": "lt",
        "threshold": 95,
        "window_seconds": 3600,
        "severity": "medium",
    },
    {
        "name": "Storage failing",
        "description": "Writing, reading back or deleting a small object in storage failed.",
        "metric": "storage_failing",
        "comparison": "gt",
        "threshold": 0,
        "severity": "critical",
    },
    {
        "name": "Workers down",
        "description": "No Celery worker answered a ping.",
        "metric": "workers_alive",
        "comparison": "lt",
        "threshold": 1,
        "severity": "critical",
    },
    {
        "name": "Job over time limit",
        "description": "An analysis job has been running longer than its hard time limit.",
        "metric": "analysis_jobs_over_time_limit",
        "comparison": "gt",
        "threshold": 0,
        "severity": "medium",
    },
    {
        "name": "Ledger drift",
        "description": "The credits ledger does not reconcile with its accounts.",
        "metric": "ledger_drift",
        "comparison": "ne",
        "threshold": 0,
        "severity": "critical",
    },
]


def seed(apps, schema_editor):
    AlertRule = apps.get_model("monitoring", "AlertRule")
    for rule in DEFAULT_RULES:
        AlertRule.objects.get_or_create(name=rule["name"], defaults=rule)


def unseed(apps, schema_editor):
    AlertRule = apps.get_model("monitoring", "AlertRule")
    AlertRule.objects.filter(name__in=[rule["name"] for rule in DEFAULT_RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
