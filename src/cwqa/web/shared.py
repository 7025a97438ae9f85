"""The pipeline shared by every session of one app server process, opened and rebuilt in the background."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

from ..pipeline import IndexStatus, open_pipeline
from ..pipeline import status as index_status
from .views import one_line


def settings_key(settings) -> str:
    """A string naming everything that decides which index a Settings opens and how it searches."""
    values = dataclasses.asdict(settings)
    values["corpus_dir"] = str(Path(settings.corpus_dir).resolve())
    values["index_dir"] = str(Path(settings.index_dir).resolve())
    return json.dumps(values, sort_keys=True, default=str)


class SharedIndex:
    """The pipeline of one corpus/index, loaded once per process and shared by every session.

    The app keeps one of these per settings in `st.cache_resource`. Opening, building and
    rebuilding run in a background thread owned by this object, not in a session's script: a
    visitor who closes the tab or clicks a widget mid-build (which stops that session's script)
    does not abort a build that every session is waiting for. Sessions poll `busy` and `progress`.
    A rebuild swaps in the new retriever only when it is complete, so searches meanwhile use the
    old one. Status checks hash the corpus and index files, so they are remembered for
    `status_ttl` seconds rather than redone on every rerun.
    """

    def __init__(self, settings, status_ttl: float = 30.0):
        self.settings = settings
        self.pipeline = None
        self.rebuild_reasons: list[str] = []  # why the index was (re)built when it was opened
        self.error = ""  # why the last open or rebuild failed, in one line
        self.failure: BaseException | None = None
        self.progress: tuple[int, int] = (0, 0)  # passages embedded so far, of how many
        self.rebuilding = False
        self.log: list[str] = []
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._status = None
        self._status_at = 0.0
        self.status_ttl = status_ttl

    def _note(self, message: str) -> None:
        self.log.append(f"{time.strftime('%H:%M:%S')} {message}")
        del self.log[:-50]

    def _progress(self, done: int, total: int) -> None:
        self.progress = (done, total)

    @property
    def ready(self) -> bool:
        """A pipeline is open (possibly while a rebuild prepares the next one)."""
        return self.pipeline is not None

    @property
    def busy(self) -> bool:
        """An open or a rebuild is under way."""
        return self._worker is not None and self._worker.is_alive()

    def start(self, rebuild: bool = False) -> bool:
        """Open the index (or rebuild it) in the background unless that is done or under way.

        Returns True when this call started the work.
        """
        with self._lock:
            if self.busy or (self.pipeline is not None and not rebuild):
                return False
            self.error, self.failure, self.progress, self.rebuilding = "", None, (0, 0), rebuild
            self._worker = threading.Thread(target=self._work, args=(rebuild,), name="cwqa-index", daemon=True)
            self._worker.start()
            return True

    def _work(self, rebuild: bool) -> None:
        try:
            status = index_status(self.settings)
            reasons = ["rebuild asked for"] if rebuild else ([] if status.fresh else [status.describe()])
            pipeline = open_pipeline(self.settings, progress=self._progress, log=self._note, rebuild=rebuild)
        except Exception as error:  # kept for the sessions to show; the next start() tries again
            self.failure, self.error = error, one_line(error)
            self._note(f"failed: {self.error}")
            return
        self.pipeline, self.rebuild_reasons = pipeline, reasons
        self._status = None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the work under way (if any); True when none is left."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return not self.busy

    def get(self, timeout: float | None = None):
        """The pipeline, opening (and if needed building) the index first; raises what failed."""
        self.start()
        self.wait(timeout)
        if self.pipeline is None and self.failure is not None:
            raise self.failure
        return self.pipeline

    def status(self, force: bool = False):
        """`index_status` of the saved index (remembered for a short while)."""
        now = time.monotonic()
        if force or self._status is None or now - self._status_at > self.status_ttl:
            try:
                self._status = index_status(self.settings)
            except Exception as error:  # an unreadable corpus folder is reported, not raised
                self._status = IndexStatus("corrupt", [one_line(error)])
            self._status_at = now
        return self._status
