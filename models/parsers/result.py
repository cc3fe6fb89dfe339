"""What a parser returns: the inputs it could read and, for the rest, why not."""

from dataclasses import dataclass, field

from models.change import Change
from models.check import CheckResult
from models.command import Command
from models.errors import Rejection
from models.report import UserReport
from models.signal import Signal, SignalAck

Input = Signal | SignalAck | CheckResult | UserReport | Command | Change


@dataclass(slots=True)
class Parsed:
    inputs: list[Input] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    group_key: str = ""

    @property
    def ok(self) -> bool:
        return not self.rejections

    @property
    def signals(self) -> list[Signal]:
        return [i for i in self.inputs if isinstance(i, Signal)]

    def extend(self, other: "Parsed") -> "Parsed":
        self.inputs += other.inputs
        self.rejections += other.rejections
        return self

    @classmethod
    def rejected(cls, rejection: Rejection) -> "Parsed":
        return cls(rejections=[rejection])
