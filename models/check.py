"""``CheckResult``: one health-check, smoke-test or integration-test outcome from one probe."""

from dataclasses import asdict, dataclass
from enum import StrEnum


class CheckStatus(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: str
    service: str
    status: CheckStatus
    observed_at: int
    probe: str = ""
    region: str = ""
    latency_ms: float | None = None
    message: str = ""
    kind: str = "health"  # health | smoke | integration

    @property
    def check_id(self) -> str:
        """The check across probes: ``service/check``."""
        return f"{self.service}/{self.check}"

    @property
    def vantage(self) -> str:
        """Where the result was observed from: probe and region."""
        return f"{self.probe}@{self.region}"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["status"] = str(self.status)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "CheckResult":
        return cls(**{**data, "status": CheckStatus(data["status"])})
