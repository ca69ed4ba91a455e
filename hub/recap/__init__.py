"""The recapitulation: incremental totals per region, completeness, anomalies, the training
debrief and D.HASIL CSV exports. The Ingestor keeps it up through :func:`recap_hook`."""

from hub.recap.anomalies import RECAP_KINDS, AnomalyRow, list_anomalies
from hub.recap.completeness import Expected, expected_from_registry
from hub.recap.debrief import KitDebrief, debrief
from hub.recap.errors import RecapError
from hub.recap.export import ExportInfo, export_csv
from hub.recap.hook import RecapHook, recap_hook
from hub.recap.levels import LEVELS, WHOLE, RecapLevel
from hub.recap.read import Contest, RecapReader, RegionTotals
from hub.recap.rebuild import rebuild
from hub.recap.seen import SilentKit, record_seen, record_status, silent_kits

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
    "SilentKit",
    "debrief",
    "expected_from_registry",
    "export_csv",
    "list_anomalies",
    "rebuild",
    "recap_hook",
    "record_seen",
    "record_status",
    "silent_kits",
]
