"""cwqa: question answering over Cold War diplomatic documents, with checkable citations.

The public API is the pipeline (see `cwqa.pipeline`); the CLI, the app and the evaluation use
nothing else:

    from cwqa import load_settings, open_pipeline
    pipeline = open_pipeline(load_settings())
    result = pipeline.search("Who was Llewellyn Thompson?")
"""

from .config import VERSION as __version__
from .config import Settings, load_settings
from .errors import CwqaError
from .pipeline import Pipeline, SearchResult, open_pipeline

__all__ = ["__version__", "CwqaError", "Pipeline", "SearchResult", "Settings", "load_settings", "open_pipeline"]
