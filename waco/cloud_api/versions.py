"""Meta's Graph API versions and the day each stops answering, as data.

Source: developers.facebook.com/docs/graph-api/changelog/versions ("Available Until"), read on
2026-12-07. A version whose end Meta has not set yet has None. Add a row when Meta releases a
version or sets an end; nothing else changes.
"""

from dataclasses import dataclass
from datetime import date

SOURCE = "https://developers.facebook.com/docs/graph-api/changelog/versions"
# version -> (released, available until)
GRAPH_API_VERSIONS: dict[str, tuple[date, date | None]] = {
    "v26.0": (date(2026, 7, 29), None),
    "v25.0": (date(2026, 2, 18), date(2028, 7, 29)),
    "v24.0": (date(2025, 10, 8), date(2028, 2, 18)),
    "v23.0": (date(2025, 5, 29), date(2027, 10, 8)),
    "v22.0": (date(2025, 1, 21), date(2027, 5, 20)),
    "v21.0": (date(2024, 10, 2), date(2027, 1, 21)),
    "v20.0": (date(2024, 5, 21), date(2026, 9, 24)),
    "v19.0": (date(2024, 1, 23), date(2026, 5, 21)),
    "v18.0": (date(2023, 9, 12), date(2026, 1, 26)),
}
# From this many days before a version's end, staff are told to move to a newer one.
WARN_DAYS = 90


@dataclass(frozen=True)
class VersionStanding:
    version: str
    state: str  # "ok", "ending" (within WARN_DAYS), "ended", "unknown" (not in the table)
    ends: date | None
    newest: str

    @property
    def message(self) -> str:
        move = f"move WACO_GRAPH_API_VERSION to {self.newest} ({SOURCE})"
        if self.state == "ended":
            return f"Graph API {self.version} ended on {self.ends:%Y-%m-%d}: Meta no longer answers it; {move}."
        if self.state == "ending":
            return f"Graph API {self.version} ends on {self.ends:%Y-%m-%d}: {move}."
        if self.state == "unknown":
            return f"Graph API {self.version} is not in Waco's table of versions; check its end date at {SOURCE}."
        return f"Graph API {self.version} is supported" + (f" until {self.ends:%Y-%m-%d}." if self.ends else ".")


def version_standing(version: str, *, today: date) -> VersionStanding:
    """Where `version` stands on `today`."""
    newest = max(GRAPH_API_VERSIONS, key=lambda v: GRAPH_API_VERSIONS[v][0])
    if version not in GRAPH_API_VERSIONS:
        return VersionStanding(version, "unknown", None, newest)
    ends = GRAPH_API_VERSIONS[version][1]
    if ends is None or (ends - today).days > WARN_DAYS:
        state = "ok"
    else:
        state = "ended" if today >= ends else "ending"
    return VersionStanding(version, state, ends, newest)
