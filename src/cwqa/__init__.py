"""cwqa: question answering over Cold War diplomatic documents."""
__version__ = "0.2.0"
