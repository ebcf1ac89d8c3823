"""Saved organization searches and their alerts.

A saved search is the search page's query and filters, kept for one user.
When a profile is newly validated or changes, `process_changes(org_ids)`
runs each saved search restricted to those organizations, *as its owner*
(so visibility rules apply), and records a `SavedSearchHit` per
(search, organization). The hit's uniqueness is what makes an alert fire
once: the owner is notified live when the hit is created, and the daily
digest (`send_digests`) lists each hit once (`digested_at`).

Trigger: a receiver of `organizations_changed` schedules
`process_changes_after_commit`, which first applies the search outbox for
those organizations (a no-op when the search app's own flush already ran)
so the query sees the committed profile; `manage.py matchmaking_tasks` also
sweeps recently updated organizations, which catches anything missed while
Elasticsearch was down. Elasticsearch's percolator would do this in reverse,
but this distribution does not ship it; with few saved searches and small
batches of changed organizations, one filtered query per saved search is cheap.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from matchmaking import funnel_access, funnel_effects
from matchmaking.models import Organization, SavedSearch, SavedSearchHit, User
from matchmaking.services.common import require_user

logger = logging.getLogger(__name__)

MAX_SAVED_SEARCHES = 50
# Query-string keys that describe *what* is searched (page, cursor, sort and size do not).
IGNORED_KEYS = frozenset({"page", "cursor", "sort", "size", "csrfmiddlewaretoken", "name", "format"})


def _params(query: str, filters: dict[str, Any]) -> QueryDict:
    params = QueryDict(mutable=True)
    if query:
        params["q"] = query
    for key, values in filters.items():
        params.setlist(key, [str(v) for v in (values if isinstance(values, list) else [values])])
    return params


def parse(query: str, filters: dict[str, Any]) -> tuple[str, Any]:
    """Validate with the search API's own parameter rules; returns (clean text, OrganizationFilters)."""
    from search import queries
    from search.api.serializers import OrganizationSearchParams

    params = OrganizationSearchParams(data=_params(query, filters))
    if not params.is_valid():
        errors = "; ".join(f"{key}: {' '.join(str(e) for e in value)}" for key, value in params.errors.items())
        raise ValidationError(_("This search cannot be saved: %(errors)s") % {"errors": errors}, code="invalid")
    return queries.normalize_text(params.validated_data.get("q", "")), params.filters()


def create(user: Any, *, name: Any, query: Any = "", filters: Any = None) -> SavedSearch:
    require_user(user)
    filters = filters or {}
    if not isinstance(filters, dict):
        raise ValidationError({"filters": ValidationError(_("Expected an object."), code="invalid")})
    text = "" if query is None else str(query)
    clean, parsed = parse(text, filters)
    if not clean and parsed.is_empty():
        raise ValidationError(_("Type some words or choose a filter before saving a search."), code="empty")
    title = (str(name or "").strip() or clean or _("My search"))[:200]
    if SavedSearch.objects.filter(user_id=user.pk).count() >= MAX_SAVED_SEARCHES:
        raise ValidationError(
            _("You already have %(max)d saved searches; delete one first.") % {"max": MAX_SAVED_SEARCHES},
            code="too_many",
        )
    kept = {key: value if isinstance(value, list) else [value] for key, value in filters.items() if value}
    return SavedSearch.objects.create(user=user, name=title, query=clean, filters=kept)


def create_from_querystring(user: Any, *, name: Any, querystring: Any) -> SavedSearch:
    """From the search page's URL query string, e.g. "q=cybersecurity&country=FR&country=DE"."""
    raw = QueryDict(str(querystring or "")[:4000].lstrip("?"))
    filters = {key: raw.getlist(key) for key in raw if key not in IGNORED_KEYS and key != "q"}
    return create(user, name=name, query=raw.get("q", ""), filters=filters)


def list_for(user: Any) -> list[SavedSearch]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(SavedSearch.objects.filter(user_id=user.pk).prefetch_related("hits__organization"))


def delete(user: Any, saved_search_id: Any) -> None:
    funnel_access.access_saved_search(user, saved_search_id).delete()


def search_url(saved: SavedSearch) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        base = reverse("search")
    except NoReverseMatch:
        return ""
    return f"{base}?{urlencode(_params(saved.query, saved.filters), doseq=True)}"


# --- Matching changed organizations ---------------------------------------------------------


def _matching_ids(saved: SavedSearch, organization_ids: list[int]) -> set[int]:
    """Run the saved search as its owner, restricted to these organizations (raises SearchUnavailable)."""
    from search import queries

    tokens = queries.viewer_access_tokens(saved.user)
    if tokens is None:
        return set()
    try:
        text, filters = parse(saved.query, saved.filters)
    except ValidationError:
        logger.warning("saved search %s no longer parses; skipped", saved.pk)
        return set()
    body = queries.build_organization_search(
        tokens=tokens, text=text, filters=filters, sort="relevance", size=len(organization_ids), facets=False
    )
    body["query"]["bool"]["filter"].append({"terms": {"org_id": organization_ids}})
    body.pop("highlight", None)
    body["_source"] = ["org_id", "version"]
    response = queries._run(queries.ORGANIZATIONS.alias, body)
    return {int(hit["_source"]["org_id"]) for hit in response["hits"]["hits"]}


def process_changes(organization_ids: Iterable[int], *, notify: bool = True) -> int:
    """Record (and announce) new hits of every saved search among these organizations. Returns new hits."""
    ids = sorted({int(i) for i in organization_ids})
    if not ids:
        return 0
    orgs = {org.pk: org for org in Organization.objects.filter(pk__in=ids)}
    if not orgs:
        return 0
    created: list[SavedSearchHit] = []
    for saved in SavedSearch.objects.select_related("user").filter(user__is_active=True):
        # Only changes after the search was saved alert: what matched before, the owner saw when saving.
        candidates = [pk for pk, org in orgs.items() if org.updated_at >= saved.created_at]
        already = set(
            SavedSearchHit.objects.filter(saved_search=saved, organization_id__in=candidates).values_list(
                "organization_id", flat=True
            )
        )
        candidates = [pk for pk in candidates if pk not in already]
        if not candidates:
            continue
        for org_id in sorted(_matching_ids(saved, candidates)):
            # The owner's own organizations are not news to them.
            if funnel_access.is_member_of(saved.user, org_id):
                continue
            try:
                with transaction.atomic():
                    hit = SavedSearchHit.objects.create(
                        saved_search=saved, organization_id=org_id, version=orgs[org_id].version
                    )
            except IntegrityError:
                continue  # another worker recorded it first: it alerts once, from there
            created.append(hit)
    if notify:
        for hit in created:
            announce_hit(hit.pk)
    return len(created)


def process_changes_after_commit(organization_ids: list[int]) -> None:
    """On-commit hook: bring the index up to date for these organizations, then match. Never raises."""
    try:
        from search import indexing
        from search.models import IndexKind

        indexing.flush(IndexKind.ORGANIZATION, organization_ids)
        process_changes(organization_ids)
    except Exception:
        logger.exception("saved-search alerts for %s deferred to `manage.py matchmaking_tasks`", organization_ids)


def on_organizations_changed(sender: Any, organization_ids: Iterable[Any] = (), **kwargs: Any) -> None:
    ids = sorted({int(i) for i in organization_ids if i is not None})
    if ids and SavedSearch.objects.exists():
        transaction.on_commit(lambda: process_changes_after_commit(ids))


def sweep(*, since: Any = None) -> int:
    """Match organizations updated since `since` (default: the last 26 hours); idempotent thanks to hits."""
    since = since or timezone.now() - timedelta(hours=26)
    ids = list(Organization.objects.filter(updated_at__gte=since).values_list("pk", flat=True))
    total = 0
    for start in range(0, len(ids), 500):
        total += process_changes(ids[start : start + 500])
    return total


# --- Telling the owner -------------------------------------------------------------------------


def announce_hit(hit_id: int) -> None:
    hit = SavedSearchHit.objects.select_related("saved_search__user", "organization").filter(pk=hit_id).first()
    if hit is None:
        return
    saved, org = hit.saved_search, hit.organization

    def payload(user: User) -> dict[str, Any]:
        url = funnel_effects.page_url("organization_detail", funnel_effects.language_of(user), pk=org.pk)
        title = _("New match for your saved search “%(search)s”: %(org)s") % {"search": saved.name, "org": org.name}
        return {"saved_search": saved.pk, "organization": org.pk, "title": title, "url": url}

    funnel_effects.announce([saved.user], "saved_search.match", payload, None)
    SavedSearch.objects.filter(pk=saved.pk).update(last_notified_at=timezone.now())


def send_digests(now: Any = None) -> int:
    """One email per user listing the hits not yet in a digest; each hit is digested once. Returns emails sent."""
    now = now or timezone.now()
    pending = list(
        SavedSearchHit.objects.filter(digested_at__isnull=True)
        .select_related("saved_search__user", "organization")
        .order_by("saved_search__user_id", "saved_search_id", "found_at")
    )
    by_user: dict[int, list[SavedSearchHit]] = defaultdict(list)
    for hit in pending:
        by_user[hit.saved_search.user_id].append(hit)
    sent = 0
    for hits in by_user.values():
        user = hits[0].saved_search.user
        # Claim first, so two concurrent runs cannot both mail the same hits.
        claimed = SavedSearchHit.objects.filter(pk__in=[h.pk for h in hits], digested_at__isnull=True).update(
            digested_at=now
        )
        if not claimed or not user.is_active:
            continue

        def email_for(user: User, hits: list[SavedSearchHit] = hits) -> tuple[str, str]:
            lang = funnel_effects.language_of(user)
            subject = _("Your saved searches: %(count)d new matching profiles") % {"count": len(hits)}
            lines = [subject, ""]
            current = None
            for hit in hits:
                if hit.saved_search_id != current:
                    current = hit.saved_search_id
                    lines += ["", f"« {hit.saved_search.name} »"]
                url = funnel_effects.page_url("organization_detail", lang, pk=hit.organization_id)
                lines.append(f"  - {hit.organization.name} ({hit.organization.country}): {url}")
            return subject, "\n".join(lines) + "\n"

        sent += funnel_effects.send_emails([user], email_for)
    return sent
