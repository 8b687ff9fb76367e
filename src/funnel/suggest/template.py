"""The simple template fitted to a dataset's behaviour columns (found by their names)."""

from __future__ import annotations

from funnel.rules import RuleSet, simple_template
from funnel.store import DatasetInfo

_TEMPLATE_HINTS = {
    "visit": ("visit", "訪問", "pageview", "session"),
    "document": ("document", "download", "資料", "whitepaper"),
    "newsletter": ("newsletter", "メルマガ", "subscri"),
    "inquiry": ("inquir", "問い合わせ", "contact", "demo request"),
}


def template_for(info: DatasetInfo) -> RuleSet:
    """The simple template fitted to a dataset's behaviour columns (by their names)."""
    behaviours = [s.name for s in info.mapping.features() if s.role == "behaviour"]
    found: dict[str, str] = {}
    for role, hints in _TEMPLATE_HINTS.items():
        for col in behaviours:
            if col not in found.values() and any(h in col.lower() for h in hints):
                found[role] = col
                break
    return simple_template(info.columns, found)
