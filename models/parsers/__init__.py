"""Parsers: bytes from each source → normalized inputs, or rejections with reasons.

Every parser is a pure function that never raises: ``parse_alerts`` sniffs the alert
formats tocsin accepts on ``tocsin.alerts``; the others parse one input kind each.
"""

from models.parsers.alerts import parse_alerts
from models.parsers.checks import parse_checks
from models.parsers.commands import parse_command
from models.parsers.reports import parse_reports
from models.parsers.result import Parsed

__all__ = ["Parsed", "parse_alerts", "parse_checks", "parse_command", "parse_reports"]
