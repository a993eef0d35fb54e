from django.db import models


class Heartbeat(models.Model):
    """When a component last proved it was alive (the worker, through a beat job)."""

    name = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField()
    process = models.CharField(max_length=200, blank=True, help_text="host:pid that reported")

    def __str__(self):
        return f"{self.name} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
