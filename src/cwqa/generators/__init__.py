"""Built-in language-model generators (registered as `cwqa.generators` entry points, like plug-ins)."""
