"""Build the HINANCE feed and venue from config (the engine does this for `venue = "hinance"`)."""

from collections.abc import Mapping

from adapters.hinance.config import HinanceConfig
from adapters.hinance.credentials import load_credentials
from adapters.hinance.feed import HinanceFeed
from adapters.hinance.venue import HinanceVenue


def build_hinance(
    config: HinanceConfig, environ: Mapping[str, str] | None = None
) -> tuple[HinanceFeed, HinanceVenue]:
    """Return the feed and venue for one run; credentials are looked up (and masked) here."""
    credentials = load_credentials(config, environ)
    return HinanceFeed(config), HinanceVenue(config, credentials)
