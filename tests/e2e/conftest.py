"""The end-to-end tier: every service as real processes; the journey drives them in Chromium."""

from tests.chromium import artifacts, axe_source, browser  # noqa: F401  (fixtures of the journey)
