import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="PendingIndexChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("organization", "Organization"), ("call", "Call")],
                        max_length=20,
                        verbose_name="kind",
                    ),
                ),
                ("object_id", models.BigIntegerField(verbose_name="object id")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("token", models.UUIDField(default=uuid.uuid4)),
                ("attempts", models.PositiveIntegerField(default=0, verbose_name="attempts")),
                ("last_error", models.TextField(blank=True, verbose_name="last error")),
                ("last_attempt_at", models.DateTimeField(blank=True, null=True, verbose_name="last attempt at")),
            ],
            options={
                "verbose_name": "pending index change",
                "verbose_name_plural": "pending index changes",
                "ordering": ["created_at", "pk"],
                "constraints": [
                    models.UniqueConstraint(fields=("kind", "object_id"), name="unique_pending_index_change")
                ],
            },
        ),
    ]
