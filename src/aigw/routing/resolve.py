"""Turn the client's ``model`` into a catalog model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aigw.errors import ModelNotFound

if TYPE_CHECKING:
    from aigw.catalog.loader import Catalog
    from aigw.catalog.models import Model


# Providers that re-host other makers' models under the maker's own name (an Azure deployment
# of gpt-4o is ``gpt-4o``): a bare name means the maker's API; call these by catalog id.
REHOSTS = frozenset({"azure"})


def resolve_model(catalog: Catalog, name: str) -> Model:
    """``provider/model`` ids resolve exactly; a bare upstream name (``gpt-4o-mini``) resolves
    when exactly one provider (re-hosts aside) serves it under that name."""
    model = catalog.get(name)
    if model is not None:
        return model
    if "/" not in name:
        matches = [m for m in catalog.models if m.upstream_id == name and m.modality == "text"]
        if len(matches) > 1:
            matches = [m for m in matches if m.provider not in REHOSTS] or matches
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            options = ", ".join(sorted(m.id for m in matches)[:5])
            raise ModelNotFound(
                f"Model '{name}' is served by several providers; name one of: {options}.",
                param="model",
            )
    raise ModelNotFound(
        f"Model '{name}' is not in the catalog; GET /v1/models lists the available models.",
        param="model",
    )
