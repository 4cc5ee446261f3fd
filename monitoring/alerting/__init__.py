"""Alerting: rule evaluation, notification routing and delivery, escalation."""
