"""The one exception tree of the daemon; messages say what was wrong and what was given."""


class TraderError(Exception):
    """Base of every error the daemon raises on purpose."""


class ConfigError(TraderError):
    """A configuration file, key or value is invalid."""


class DataError(TraderError):
    """Market data or a data file is malformed."""


class CheckpointError(TraderError):
    """A checkpoint is corrupt, unsafe, of an unknown layout or fails its checksum."""


class LedgerError(TraderError):
    """The ledger cannot be read or written; trading must stop."""


class VenueError(TraderError):
    """A venue refused or failed an operation."""


class FeedError(TraderError):
    """A market-data feed failed."""


class MoneyTypeError(TraderError, TypeError):
    """Money or a quantity was mixed with a float."""
