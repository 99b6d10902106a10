"""The model catalog: providers, models, prices and capabilities, from one data file.

``load_catalog()`` returns the packaged catalog (parsed once per process) with an operator's
file merged over it; everything else reads the immutable ``Catalog`` it returns.
"""

from aigw.catalog.loader import Catalog, builtin_catalog, load_catalog
from aigw.catalog.models import (
    MEDIA,
    MODALITIES,
    REASONING_EFFORTS,
    WIRE_FORMATS,
    Capabilities,
    Model,
    Price,
    PriceTier,
    Provider,
)
from aigw.catalog.schema import CAPABILITIES, CapabilityInfo, capability_ids, model_schema

__all__ = [
    "CAPABILITIES",
    "MEDIA",
    "MODALITIES",
    "REASONING_EFFORTS",
    "WIRE_FORMATS",
    "Capabilities",
    "CapabilityInfo",
    "Catalog",
    "Model",
    "Price",
    "PriceTier",
    "Provider",
    "builtin_catalog",
    "capability_ids",
    "load_catalog",
    "model_schema",
]
