"""The recapitulation: incremental totals per region, completeness, anomalies, the training
debrief and D.HASIL CSV exports. The Ingestor keeps it up through :func:`recap_hook`."""

from hub.recap.anomalies import RECAP_KINDS, AnomalyRow, list_anomalies
from hub.recap.completeness import Expected, expected_from_registry
from hub.recap.debrief import KitDebrief, debrief
from hub.recap.errors import RecapError
from hub.recap.export import ExportInfo, export_csv
from hub.recap.hook import RecapHook, recap_hook
from hub.recap.kitstates import RegistryIndex, SilentKit, election_filter, silent_kits
from hub.recap.levels import LEVELS, WHOLE, RecapLevel
from hub.recap.read import Contest, RecapReader, RegionTotals
from hub.recap.rebuild import rebuild
from hub.recap.seen import record_seen, record_status

__all__ = [
    "LEVELS",
    "RECAP_KINDS",
    "WHOLE",
    "AnomalyRow",
    "Contest",
    "Expected",
    "ExportInfo",
    "KitDebrief",
    "RecapError",
    "RecapHook",
    "RecapLevel",
    "RecapReader",
    "RegionTotals",
    "RegistryIndex",
    "SilentKit",
    "debrief",
    "election_filter",
    "expected_from_registry",
    "export_csv",
    "list_anomalies",
    "rebuild",
    "recap_hook",
    "record_seen",
    "record_status",
    "silent_kits",
]
