"""The newcomer demo that ``make run`` replays: see ``scenario`` and ``replay``."""
