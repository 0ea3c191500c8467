"""mastplan.synthetic — seeded, plausible, clearly SYNTHETIC structures and existing sites.

No real pole inventory of Chongqing is available, so the default data set is generated here.
Store what these functions return with ``synthetic=True`` and :func:`source_tag` as its source.
"""

from mastplan.synthetic.sites import OPERATORS, SectorBatch, SiteBatch, generate_sites
from mastplan.synthetic.structures import (
    PROVENANCE,
    STRUCTURE_KINDS,
    StructureBatch,
    concat_structures,
    decode_local_id,
    generate_structures,
    generate_tile,
    source_tag,
)

__all__ = [
    "OPERATORS",
    "PROVENANCE",
    "STRUCTURE_KINDS",
    "SectorBatch",
    "SiteBatch",
    "StructureBatch",
    "concat_structures",
    "decode_local_id",
    "generate_sites",
    "generate_structures",
    "generate_tile",
    "source_tag",
]
