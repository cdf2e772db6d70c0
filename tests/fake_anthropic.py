"""The fake Anthropic API lives in the package (`panel demo` serves it); tests import it from here."""

from panel.demo.fake_api import *  # noqa: F403
from panel.demo.fake_api import FakeAnthropic, Reply, Timing

__all__ = ["FakeAnthropic", "Reply", "Timing"]
