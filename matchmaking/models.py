"""Maillage's domain: clusters, their members, offers and needs, calls.

Data and invariants only. Every write goes through `matchmaking/services/`,
every "who may see this" question through `matchmaking/access.py`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from matchmaking.validators import (
    validate_country_code,
    validate_ice,
    validate_language_codes,
    validate_pic,
    validate_siren,
    validate_siret,
    validate_string_list,
)


class EmailUserManager(UserManager["User"]):
    """Users sign in by email; the username column is kept empty-unique-free."""

    use_in_migrations = True

    def _create_user_object(self, username: Any, email: Any, password: Any, **extra_fields: Any) -> User:
        email = self.normalize_email(email)
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        return user

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        user = self._create_user_object(None, email, password, **extra_fields)
        user.save(using=self._db)
        return user

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> User:
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person. Acts for organizations (OrganizationMember) or clusters (ClusterStaff)."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="fr"
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = EmailUserManager()  # type: ignore[misc]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]


# --- Taxonomy ---------------------------------------------------------------


class Theme(models.Model):
    """A theme of the shared taxonomy that every cluster's own themes map onto.

    `synonyms` holds bilingual equivalents (e.g. "cybersécurité" ↔
    "cybersecurity") that the search analysis uses; they live here so that the
    taxonomy and the synonym list cannot drift apart.
    """

    code = models.SlugField(_("code"), max_length=64, unique=True)
    label_fr = models.CharField(_("label (French)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    synonyms = models.JSONField(
        _("synonym groups"),
        default=list,
        blank=True,
        validators=[validate_string_list],
        help_text=_("Comma-separated equivalents, one group per entry, e.g. 'cybersécurité, cybersecurity'."),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("shared theme")
        verbose_name_plural = _("shared themes")

    def __str__(self) -> str:
        return self.label_fr

    def label(self, language: str | None = None) -> str:
        from django.utils.translation import get_language

        return self.label_en if (language or get_language() or "fr").startswith("en") else self.label_fr


# --- Clusters ---------------------------------------------------------------


class Cluster(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True, help_text=_("Short code, e.g. MNC."))
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, validators=[validate_country_code])
    region = models.CharField(_("region"), max_length=200, blank=True)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    # Per-cluster policy: when true, introduction requests to or from its members
    # go through a staff broker first (used by the introductions funnel).
    brokered_introductions = models.BooleanField(_("introductions go through a broker"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")

    def __str__(self) -> str:
        return self.name


class ClusterTheme(models.Model):
    """A cluster's own theme, mapped onto one theme of the shared taxonomy."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="themes")
    code = models.SlugField(_("code"), max_length=64)
    label = models.CharField(_("label"), max_length=200)
    shared_theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="cluster_themes")

    class Meta:
        ordering = ["cluster", "code"]
        constraints = [models.UniqueConstraint(fields=["cluster", "code"], name="unique_cluster_theme_code")]
        verbose_name = _("cluster theme")
        verbose_name_plural = _("cluster themes")

    def __str__(self) -> str:
        return f"{self.cluster.code}: {self.label}"


class ClusterAgreementQuerySet(models.QuerySet["ClusterAgreement"]):
    def active(self, on: Any = None) -> ClusterAgreementQuerySet:
        day = on or timezone.localdate()
        return self.filter(since__lte=day).filter(Q(until__isnull=True) | Q(until__gte=day))


class ClusterAgreement(models.Model):
    """A partnership between two clusters and what each side's members may see.

    Visibility is directional: `a_members_see_b` lets members of `cluster_a`
    see the partner-visible profiles of `cluster_b`'s members.
    """

    cluster_a = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="agreements_as_a")
    cluster_b = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="agreements_as_b")
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)
    a_members_see_b = models.BooleanField(_("members of A see members of B"), default=True)
    b_members_see_a = models.BooleanField(_("members of B see members of A"), default=True)
    description = models.TextField(_("description"), blank=True)

    objects = ClusterAgreementQuerySet.as_manager()

    class Meta:
        ordering = ["since"]
        constraints = [
            models.UniqueConstraint(fields=["cluster_a", "cluster_b"], name="unique_cluster_agreement"),
            models.CheckConstraint(condition=~Q(cluster_a=models.F("cluster_b")), name="agreement_two_clusters"),
        ]
        verbose_name = _("cluster agreement")
        verbose_name_plural = _("cluster agreements")

    def __str__(self) -> str:
        return f"{self.cluster_a.code} ↔ {self.cluster_b.code} ({self.since:%Y-%m})"


# --- Organizations ----------------------------------------------------------


class OrganizationKind(models.TextChoices):
    STARTUP = "startup", _("Startup")
    SME = "sme", _("SME")
    MIDSIZE = "midsize", _("Mid-size company")
    LARGE = "large", _("Large company")
    UNIVERSITY = "university", _("University")
    RESEARCH_LAB = "research_lab", _("Research lab")
    PUBLIC_BODY = "public_body", _("Public body")
    ASSOCIATION = "association", _("Association")


class SizeBand(models.TextChoices):
    MICRO = "micro", _("1–9 employees")
    SMALL = "small", _("10–49 employees")
    MEDIUM = "medium", _("50–249 employees")
    LARGE = "large", _("250–4,999 employees")
    HUGE = "huge", _("5,000+ employees")


class Visibility(models.TextChoices):
    EVERYONE = "everyone", _("Everyone on Maillage")
    PARTNERS = "partners", _("Own and partner clusters")
    CLUSTER = "cluster", _("Own cluster only")


class ProfileStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for validation")
    VALIDATED = "validated", _("Validated by staff")


class Organization(models.Model):
    legal_name = models.CharField(_("legal name"), max_length=300)
    acronym = models.CharField(_("acronym"), max_length=60, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganizationKind.choices)
    size_band = models.CharField(_("size"), max_length=10, choices=SizeBand.choices, blank=True)
    country = models.CharField(_("country"), max_length=2, validators=[validate_country_code])
    city = models.CharField(_("city"), max_length=120, blank=True)
    latitude = models.FloatField(
        _("latitude"), null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        _("longitude"), null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    website = models.URLField(_("website"), blank=True)
    # Identifiers: unique when present (NULL, never "", so that many organizations can lack one).
    siren = models.CharField("SIREN", max_length=9, null=True, blank=True, unique=True, validators=[validate_siren])
    siret = models.CharField("SIRET", max_length=14, null=True, blank=True, unique=True, validators=[validate_siret])
    ice = models.CharField("ICE", max_length=15, null=True, blank=True, unique=True, validators=[validate_ice])
    pic = models.CharField(
        _("EU PIC"),
        max_length=9,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_pic],
        help_text=_("EU Participant Identification Code (9 digits)."),
    )
    description_fr = models.TextField(_("description (French)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    competences = models.JSONField(_("competences"), default=list, blank=True, validators=[validate_string_list])
    themes = models.ManyToManyField(Theme, blank=True, related_name="organizations", verbose_name=_("themes"))
    languages = models.JSONField(
        _("languages spoken"),
        default=list,
        blank=True,
        validators=[validate_language_codes],
        help_text=_("ISO 639-1 codes, e.g. fr, en, ar."),
    )
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.PARTNERS
    )
    profile_status = models.CharField(
        _("profile status"), max_length=10, choices=ProfileStatus.choices, default=ProfileStatus.DRAFT
    )
    validated_at = models.DateTimeField(_("validated at"), null=True, blank=True)
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_fictional = models.BooleanField(
        _("fictional demo data"), default=False, help_text=_("Generated by seed_demo; not a real organization.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Bumped on every change that matters to the search index; the index stores
    # it as the external version so stale writes lose and drift is detectable.
    version = models.PositiveBigIntegerField(default=1)

    class Meta:
        ordering = ["legal_name"]
        indexes = [models.Index(fields=["country", "kind"]), models.Index(fields=["profile_status"])]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.acronym})" if self.acronym else self.legal_name

    @property
    def name(self) -> str:
        return self.acronym or self.legal_name

    def description(self, language: str | None = None) -> str:
        from django.utils.translation import get_language

        english = (language or get_language() or "fr").startswith("en")
        first, second = (
            (self.description_en, self.description_fr) if english else (self.description_fr, self.description_en)
        )
        return first or second


class OpportunityKind(models.TextChoices):
    """Enterprise Europe Network profile types."""

    TECHNOLOGY_OFFER = "technology_offer", _("Technology offer")
    TECHNOLOGY_REQUEST = "technology_request", _("Technology request")
    BUSINESS_OFFER = "business_offer", _("Business offer")
    BUSINESS_REQUEST = "business_request", _("Business request")
    RD_PARTNER_SEARCH = "rd_partner_search", _("R&D partner search")


OFFER_KINDS = frozenset({OpportunityKind.TECHNOLOGY_OFFER, OpportunityKind.BUSINESS_OFFER})


class Opportunity(models.Model):
    """One offer or need published by an organization (EEN-style typed profile)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="opportunities")
    kind = models.CharField(_("type"), max_length=24, choices=OpportunityKind.choices)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("description"), blank=True)
    trl = models.PositiveSmallIntegerField(
        _("TRL"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(9)],
        help_text=_("Technology readiness level, 1 to 9."),
    )
    tags = models.JSONField(_("tags"), default=list, blank=True, validators=[validate_string_list])
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization", "kind", "title"]
        verbose_name = _("offer or need")
        verbose_name_plural = _("offers and needs")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def is_offer(self) -> bool:
        return self.kind in OFFER_KINDS

    @property
    def is_expired(self) -> bool:
        return self.expires_on is not None and self.expires_on < timezone.localdate()


# --- People -----------------------------------------------------------------


class OrganizationRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    EDITOR = "editor", _("Editor")
    MEMBER = "member", _("Member")


class OrganizationMember(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organization_roles")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(_("role"), max_length=10, choices=OrganizationRole.choices, default=OrganizationRole.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="unique_organization_member")]
        verbose_name = _("organization member")
        verbose_name_plural = _("organization members")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class Invitation(models.Model):
    """An owner's invitation for a person to join an organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=10, choices=OrganizationRole.choices, default=OrganizationRole.MEMBER)
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} → {self.organization}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class StaffRole(models.TextChoices):
    BROKER = "broker", _("Broker")
    ADMIN = "admin", _("Administrator")


class ClusterStaff(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_roles")
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(_("role"), max_length=10, choices=StaffRole.choices, default=StaffRole.BROKER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "cluster"], name="unique_cluster_staff")]
        verbose_name = _("cluster staff member")
        verbose_name_plural = _("cluster staff")

    def __str__(self) -> str:
        return f"{self.user} @ {self.cluster.code} ({self.role})"


# --- Membership -------------------------------------------------------------


class MembershipStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    ADMITTED = "admitted", _("Admitted")
    REJECTED = "rejected", _("Rejected")
    LAPSED = "lapsed", _("Lapsed")


class FeeTier(models.TextChoices):
    STARTUP = "startup", _("Startup (flat fee)")
    SME = "sme", _("SME")
    LARGE = "large", _("Large company")


class Membership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="memberships")
    status = models.CharField(
        _("status"), max_length=10, choices=MembershipStatus.choices, default=MembershipStatus.APPLIED
    )
    fee_tier = models.CharField(_("fee tier"), max_length=10, choices=FeeTier.choices)
    motivation = models.TextField(_("motivation"), blank=True)
    applied_at = models.DateTimeField(_("applied at"), default=timezone.now)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    board_note = models.TextField(_("board decision note"), blank=True)

    class Meta:
        ordering = ["-applied_at"]
        constraints = [models.UniqueConstraint(fields=["organization", "cluster"], name="unique_membership")]
        indexes = [models.Index(fields=["cluster", "status"])]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.organization} in {self.cluster.code}: {self.status}"


# --- Calls, labels, shared resources ---------------------------------------


class Programme(models.TextChoices):
    HORIZON_EUROPE = "horizon_europe", _("Horizon Europe")
    NATIONAL = "national", _("National call for projects")
    CLUSTER = "cluster", _("Cluster call")
    OTHER = "other", _("Other")


class Call(models.Model):
    """A call for projects or funding, with its eligibility rules as data."""

    programme = models.CharField(_("programme"), max_length=20, choices=Programme.choices)
    topic_code = models.CharField(_("topic code"), max_length=120, unique=True)
    title = models.CharField(_("title"), max_length=300)
    text = models.TextField(_("description"), blank=True)
    opens_on = models.DateField(_("opens on"))
    deadline = models.DateTimeField(_("deadline"))
    published_by = models.ForeignKey(
        Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls", verbose_name=_("published by")
    )
    min_partners = models.PositiveSmallIntegerField(_("minimum partners"), default=1)
    min_countries = models.PositiveSmallIntegerField(_("minimum distinct countries"), default=1)
    allowed_countries = models.JSONField(
        _("eligible countries"),
        default=list,
        blank=True,
        help_text=_("ISO country codes; empty means any country."),
    )
    required_kinds = models.JSONField(
        _("required organization kinds"),
        default=list,
        blank=True,
        help_text=_("Each listed kind must be present at least once in the consortium."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deadline"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")

    def __str__(self) -> str:
        return f"{self.topic_code}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.opens_on <= timezone.localdate() and self.deadline > timezone.now()


class LabelDecision(models.TextChoices):
    PENDING = "pending", _("Under evaluation")
    AWARDED = "awarded", _("Label awarded")
    REFUSED = "refused", _("Label refused")


class ProjectLabel(models.Model):
    """A cluster's label on a members' innovative project, after evaluation."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="labels")
    project_title = models.CharField(_("project title"), max_length=300)
    organizations = models.ManyToManyField(Organization, related_name="labels", verbose_name=_("organizations"))
    evaluation_summary = models.TextField(_("evaluation summary"), blank=True)
    decision = models.CharField(
        _("decision"), max_length=10, choices=LabelDecision.choices, default=LabelDecision.PENDING
    )
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-decided_on"]
        verbose_name = _("project label")
        verbose_name_plural = _("project labels")

    def __str__(self) -> str:
        return f"{self.cluster.code}: {self.project_title} ({self.decision})"


class SharedResource(models.Model):
    """A platform a cluster opens to others, e.g. a 4G/LTE test network."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="resources")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    eligibility_criteria = models.TextField(_("eligibility criteria"), blank=True)
    screened_by = models.ForeignKey(
        Cluster,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="screened_resources",
        verbose_name=_("eligibility screened by"),
        help_text=_("Cluster whose staff screen access requests (e.g. MNC for Moroccan firms)."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("shared resource")
        verbose_name_plural = _("shared resources")

    def __str__(self) -> str:
        return self.name


class AccessRequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ELIGIBLE = "eligible", _("Eligible")
    INELIGIBLE = "ineligible", _("Not eligible")
    GRANTED = "granted", _("Access granted")


class ResourceAccessRequest(models.Model):
    resource = models.ForeignKey(SharedResource, on_delete=models.CASCADE, related_name="access_requests")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="resource_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    purpose = models.TextField(_("purpose"))
    status = models.CharField(
        _("status"), max_length=10, choices=AccessRequestStatus.choices, default=AccessRequestStatus.SUBMITTED
    )
    review_note = models.TextField(_("review note"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")

    def __str__(self) -> str:
        return f"{self.organization} → {self.resource}: {self.status}"


# --- EU track record (CORDIS) -----------------------------------------------


class EUProject(models.Model):
    """An EU-funded project from CORDIS (H2020, Horizon Europe)."""

    framework = models.CharField(_("framework programme"), max_length=20)  # "H2020", "HORIZON"
    reference = models.CharField(_("CORDIS reference"), max_length=40)  # rcn or project id
    acronym = models.CharField(_("acronym"), max_length=60, blank=True)
    title = models.CharField(_("title"), max_length=500, blank=True)
    programme_part = models.CharField(_("programme part"), max_length=120, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    total_cost = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["framework", "reference"], name="unique_eu_project")]
        verbose_name = _("EU project")
        verbose_name_plural = _("EU projects")

    def __str__(self) -> str:
        return f"{self.framework} {self.acronym or self.reference}"


class EUParticipation(models.Model):
    """One organization's part in an EU project, linked to a member by PIC."""

    project = models.ForeignKey(EUProject, on_delete=models.CASCADE, related_name="participations")
    pic = models.CharField(_("PIC"), max_length=9, db_index=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="eu_participations"
    )
    # CORDIS's own name for the organization (Horizon Europe exports carry it; H2020's does not).
    name = models.CharField(_("name in CORDIS"), max_length=300, blank=True)
    role = models.CharField(_("role"), max_length=20)  # coordinator, participant, partner, ...
    activity_type = models.CharField(_("activity type"), max_length=3, blank=True)  # PRC, HES, REC, PUB, OTH
    country = models.CharField(_("country"), max_length=2, blank=True)
    contribution = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "pic", "role"], name="unique_eu_participation")]
        verbose_name = _("EU participation")
        verbose_name_plural = _("EU participations")

    def __str__(self) -> str:
        return f"{self.pic} in {self.project}"


# =============================================================================
# Matchmaking funnel: introductions, consortia, saved searches, preferences.
# (Section owned by the matchmaking-funnel work, issue 5; appended, not mixed in.)
# =============================================================================


class IntroductionPurpose(models.TextChoices):
    TECHNOLOGY = "technology", _("Technology partnership")
    COMMERCIAL = "commercial", _("Commercial partnership or market access")
    RESEARCH = "research", _("R&D cooperation")
    CONSORTIUM = "consortium", _("Building a consortium for a call")
    OTHER = "other", _("Other")


class IntroductionState(models.TextChoices):
    PENDING_BROKER = "pending_broker", _("Waiting for a broker")
    PENDING_TARGET = "pending_target", _("Waiting for the target's answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined by the target")
    BROKER_DECLINED = "broker_declined", _("Declined by a broker")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_INTRODUCTION_STATES = frozenset({IntroductionState.PENDING_BROKER, IntroductionState.PENDING_TARGET})


class IntroductionRequest(models.Model):
    """A structured request from one organization to be introduced to another.

    The state machine and who may move it live in
    `matchmaking/services/introductions.py`; every move is an `IntroductionEvent`.
    """

    requester = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="introductions_sent")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="introductions_requested"
    )
    target = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="introductions_received")
    opportunity = models.ForeignKey(
        Opportunity,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="introductions",
        verbose_name=_("concerning"),
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=IntroductionPurpose.choices)
    message = models.TextField(_("message"), max_length=4000)
    anonymous = models.BooleanField(
        _("anonymous until accepted"),
        default=False,
        help_text=_("The target sees only your country and kind of organization until it accepts."),
    )
    state = models.CharField(_("state"), max_length=20, choices=IntroductionState.choices)
    broker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    broker_note = models.TextField(_("broker note"), blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    conversation_id = models.PositiveBigIntegerField(_("conversation"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["requester", "created_at"]),
            models.Index(fields=["target", "state"]),
            models.Index(fields=["state", "expires_at"]),
        ]
        verbose_name = _("introduction request")
        verbose_name_plural = _("introduction requests")

    def __str__(self) -> str:
        return f"{self.requester} → {self.target}: {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_INTRODUCTION_STATES


class IntroductionEvent(models.Model):
    """One state change of an introduction request (the funnel's audit trail)."""

    request = models.ForeignKey(IntroductionRequest, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_state = models.CharField(_("from"), max_length=20, choices=IntroductionState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=IntroductionState.choices)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("introduction event")
        verbose_name_plural = _("introduction events")

    def __str__(self) -> str:
        return f"#{self.request_id}: {self.from_state or '∅'} → {self.to_state}"


class Consortium(models.Model):
    """A consortium being assembled around a call by a coordinating organization."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="consortia", verbose_name=_("call"))
    name = models.CharField(_("name"), max_length=200)
    acronym = models.CharField(_("acronym"), max_length=40, blank=True)
    description = models.TextField(_("description"), blank=True)
    coordinator = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="coordinated_consortia", verbose_name=_("coordinator")
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    conversation_id = models.PositiveBigIntegerField(_("conversation"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("consortium")
        verbose_name_plural = _("consortia")

    def __str__(self) -> str:
        return self.acronym or self.name


class PartnerState(models.TextChoices):
    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    LEFT = "left", _("Left")


class ConsortiumPartner(models.Model):
    """An organization invited to (and possibly part of) a consortium. The coordinator has no row."""

    consortium = models.ForeignKey(Consortium, on_delete=models.CASCADE, related_name="partners")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="consortium_partnerships")
    role_title = models.CharField(_("role"), max_length=200, blank=True)
    # The open role the partner was invited for; acceptance fills it.
    role = models.ForeignKey(
        "ConsortiumRole", null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    state = models.CharField(_("state"), max_length=10, choices=PartnerState.choices, default=PartnerState.INVITED)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    invited_at = models.DateTimeField(_("invited at"), default=timezone.now)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)

    class Meta:
        ordering = ["invited_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["consortium", "organization"], name="unique_consortium_partner")]
        verbose_name = _("consortium partner")
        verbose_name_plural = _("consortium partners")

    def __str__(self) -> str:
        return f"{self.organization} in {self.consortium}: {self.state}"


class ConsortiumRole(models.Model):
    """An open role of a consortium: what competences, kind and country it needs."""

    consortium = models.ForeignKey(Consortium, on_delete=models.CASCADE, related_name="roles")
    title = models.CharField(_("title"), max_length=200)
    competences = models.JSONField(_("needed competences"), default=list, blank=True, validators=[validate_string_list])
    kind = models.CharField(_("kind of organization"), max_length=20, choices=OrganizationKind.choices, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, validators=[validate_country_code])
    filled_by = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("filled by")
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("consortium role")
        verbose_name_plural = _("consortium roles")

    def __str__(self) -> str:
        return self.title


class SavedSearch(models.Model):
    """A user's saved organization search; new matching profiles raise an alert once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    name = models.CharField(_("name"), max_length=200)
    query = models.CharField(_("search text"), max_length=500, blank=True)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_notified_at = models.DateTimeField(_("last notified at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("saved search")
        verbose_name_plural = _("saved searches")

    def __str__(self) -> str:
        return self.name


class SavedSearchHit(models.Model):
    """An organization that matched a saved search: unique per search and organization, so an alert fires once."""

    saved_search = models.ForeignKey(SavedSearch, on_delete=models.CASCADE, related_name="hits")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveBigIntegerField()
    found_at = models.DateTimeField(default=timezone.now)
    digested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-found_at"]
        constraints = [
            # One alert per organization and saved search; `version` records which change raised it.
            models.UniqueConstraint(fields=["saved_search", "organization"], name="unique_saved_search_hit")
        ]
        indexes = [models.Index(fields=["digested_at"])]

    def __str__(self) -> str:
        return f"{self.saved_search} ∋ {self.organization_id} v{self.version}"


class RecommendationPreference(models.Model):
    """How an organization wants its partner recommendations filtered."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="recommendation_preference"
    )
    countries = models.JSONField(_("partner countries"), default=list, blank=True, help_text=_("Empty: any."))
    other_clusters_only = models.BooleanField(_("only organizations of other clusters"), default=False)
    kinds = models.JSONField(_("kinds of organization"), default=list, blank=True, help_text=_("Empty: any."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("recommendation preference")
        verbose_name_plural = _("recommendation preferences")

    def __str__(self) -> str:
        return f"Preferences of {self.organization}"
