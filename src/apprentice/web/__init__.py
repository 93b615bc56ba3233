"""The portal: server-rendered pages for contributors, privacy officers and ML engineers,
served by the collector's FastAPI app and authorised by the same ``authorize(...)`` as the
API (docs/portal.md).

Layer: edge. May import ``server`` and ``pipeline``; nothing imports it except ``cli``.

    mount_portal(app, Portal(governance=..., datasets=..., history=..., doctor=...))
"""

from apprentice.web.app import Portal, mount_portal
from apprentice.web.governed import ServerGovernance
from apprentice.web.history import AccessHistory, AuditStatus
from apprentice.web.local import FolderDatasets, NoDatasets, NoEpisodes
from apprentice.web.seams import DatasetCatalog, EpisodeCatalog, Governance

__all__ = [
    "AccessHistory",
    "AuditStatus",
    "DatasetCatalog",
    "EpisodeCatalog",
    "FolderDatasets",
    "Governance",
    "NoDatasets",
    "NoEpisodes",
    "Portal",
    "ServerGovernance",
    "mount_portal",
]
