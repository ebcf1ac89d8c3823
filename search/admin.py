from django.contrib import admin

from search.models import PendingIndexChange


@admin.register(PendingIndexChange)
class PendingIndexChangeAdmin(admin.ModelAdmin):
    list_display = ("kind", "object_id", "created_at", "attempts", "last_attempt_at", "last_error")
    list_filter = ("kind",)
    readonly_fields = ("kind", "object_id", "created_at", "token", "attempts", "last_error", "last_attempt_at")
