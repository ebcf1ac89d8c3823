"""Django forms of the server-rendered pages.

Forms parse and check what a person typed; the services in
`matchmaking/services/` still decide (permissions, state, uniqueness under
concurrency). A service's ValidationError is put back on the form with
`add_service_errors`, so both kinds of error read the same to the person.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from matchmaking.models import (
    Cluster,
    FeeTier,
    Opportunity,
    Organization,
    OrganizationRole,
    Theme,
)
from matchmaking.services.organizations import PROFILE_FIELDS, normalize_identifier

_LIST_SPLIT = re.compile(r"[,;\n]+")


class ListField(forms.CharField):
    """A list of short texts typed as "a, b, c" (commas, semicolons or new lines)."""

    def __init__(self, *, lowercase: bool = False, **kwargs: Any) -> None:
        self.lowercase = lowercase
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):
            items = [str(item) for item in value]
        else:
            items = _LIST_SPLIT.split(str(super().to_python(value) or ""))
        cleaned: list[str] = []
        for item in items:
            item = item.strip()
            if self.lowercase:
                item = item.lower()
            if item and item not in cleaned:
                cleaned.append(item)
        return cleaned

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(initial or []) != self.to_python(data)


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the field it names, else at the top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for item in errors:
                form.add_error(target, item)
    else:
        form.add_error(None, error)


class OrganizationForm(forms.ModelForm):
    """Profile fields an owner or editor may change (status and validation are separate actions)."""

    competences = ListField(
        label=_("Competences"),
        help_text=_("Keywords separated by commas, e.g. cybersecurity, 5G, payment."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    languages = ListField(
        label=_("Languages spoken"),
        lowercase=True,
        help_text=_("Two-letter codes separated by commas, e.g. fr, en, ar."),
    )
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https", max_length=200)
    themes = forms.ModelMultipleChoiceField(
        label=_("Themes"),
        queryset=Theme.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Organization
        fields = list(PROFILE_FIELDS)
        widgets = {
            "description_fr": forms.Textarea(attrs={"rows": 5, "lang": "fr"}),
            "description_en": forms.Textarea(attrs={"rows": 5, "lang": "en"}),
            "country": forms.TextInput(attrs={"maxlength": 2, "size": 3, "autocapitalize": "characters"}),
            "siren": forms.TextInput(attrs={"inputmode": "numeric"}),
            "siret": forms.TextInput(attrs={"inputmode": "numeric"}),
            "ice": forms.TextInput(attrs={"inputmode": "numeric"}),
            "pic": forms.TextInput(attrs={"inputmode": "numeric"}),
            "visibility": forms.RadioSelect,
        }
        help_texts = {
            "country": _("Two-letter code, e.g. MA or FR."),
            "siren": _("France: 9 digits."),
            "siret": _("France: 14 digits."),
            "ice": _("Morocco: 15 digits."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = _current_language()
        for name in ("siren", "siret", "ice", "pic"):
            # People paste "552 100 554"; spaces are removed in clean_<name>, the
            # model validators then check the digits, so no length limit here.
            field = self.fields[name]
            field.validators = []
            field.widget.attrs.pop("maxlength", None)
        self.fields["themes"].label_from_instance = lambda theme: theme.label(language)  # type: ignore[attr-defined]

    def clean_country(self) -> str:
        return str(self.cleaned_data.get("country") or "").strip().upper()

    def _clean_identifier(self, name: str) -> str | None:
        value = self.cleaned_data.get(name)
        return None if value is None else normalize_identifier(str(value))

    def clean_siren(self) -> str | None:
        return self._clean_identifier("siren")

    def clean_siret(self) -> str | None:
        return self._clean_identifier("siret")

    def clean_ice(self) -> str | None:
        return self._clean_identifier("ice")

    def clean_pic(self) -> str | None:
        return self._clean_identifier("pic")

    def service_data(self) -> dict[str, Any]:
        """The cleaned fields in the shape the organization services take (themes as codes)."""
        data = {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}
        data["themes"] = [theme.code for theme in self.cleaned_data.get("themes") or []]
        return data


def _current_language() -> str:
    from django.utils.translation import get_language

    return get_language() or "fr"


class OpportunityForm(forms.ModelForm):
    tags = ListField(label=_("Tags"), help_text=_("Keywords separated by commas."))

    class Meta:
        model = Opportunity
        fields = ["kind", "title", "text", "trl", "tags", "expires_on"]
        widgets = {
            "text": forms.Textarea(attrs={"rows": 5}),
            "expires_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "trl": forms.NumberInput(attrs={"min": 1, "max": 9}),
        }

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=OrganizationRole.choices, initial=OrganizationRole.MEMBER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=OrganizationRole.choices)


class ApplicationForm(forms.Form):
    cluster = forms.ModelChoiceField(label=_("Cluster"), queryset=Cluster.objects.none(), empty_label=None)
    fee_tier = forms.ChoiceField(
        label=_("Fee tier"),
        choices=FeeTier.choices,
        widget=forms.RadioSelect,
        help_text=_("Each cluster sets its fees by company size; the board confirms the tier."),
    )
    motivation = forms.CharField(
        label=_("Motivation"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Why join this cluster? What do you bring, what do you seek?"),
    )

    def __init__(self, *args: Any, clusters: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cluster"].queryset = clusters if clusters is not None else Cluster.objects.all()  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    ADMIT = "admit"
    REJECT = "reject"

    decision = forms.ChoiceField(
        label=_("Board decision"),
        choices=[(ADMIT, _("Admit")), (REJECT, _("Reject"))],
        widget=forms.RadioSelect,
    )
    board_note = forms.CharField(
        label=_("Board decision note"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sent to the applicant. Required for a rejection."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("decision") == self.REJECT and not (cleaned.get("board_note") or "").strip():
            self.add_error("board_note", _("Give the board's reason for the rejection."))
        return cleaned

    @property
    def admit(self) -> bool:
        return self.cleaned_data.get("decision") == self.ADMIT


class SignupExtraForm(forms.Form):
    """Extra sign-up fields (allauth's ACCOUNT_SIGNUP_FORM_CLASS): how to greet the person, in which language."""

    full_name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def signup(self, request: Any, user: Any) -> None:
        from django.conf import settings
        from django.utils.translation import get_language

        user.full_name = self.cleaned_data.get("full_name", "").strip()
        language = get_language() or settings.LANGUAGE_CODE
        if language in {code for code, _name in settings.LANGUAGES}:
            user.preferred_language = language
        user.save(update_fields=["full_name", "preferred_language"])
