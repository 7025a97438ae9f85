"""The errors cwqa reports to a user as one line, never as a traceback."""


class CwqaError(Exception):
    """Base class: the message is written for the user and names the file, field or value at fault."""


class CorpusError(CwqaError):
    """A corpus file or its metadata cannot be read."""


class IndexFileError(CwqaError):
    """The saved index is missing, stale or corrupt and could not be rebuilt."""


class QueryError(CwqaError):
    """A question or a search option is not usable (empty question, unknown document, bad mode)."""


class ConfigError(CwqaError):
    """A setting in the config file or the environment has a bad value."""


class ModelError(CwqaError):
    """A local language model is missing or cannot be loaded."""
