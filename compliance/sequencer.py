"""The chain's sequencer: one sealer for the whole deployment, never one per write.

Writers append their entries unsealed and take no lock (compliance.chain.append).
Every process that appends entries on PostgreSQL runs a sequencer thread, started
at its first audited write. The threads of all processes elect one leader with a
PostgreSQL advisory lock held by the leader's connection (released when that
connection ends, so a leader that dies is replaced within a second):

- the leader looks for committed unsealed entries every AUDIT_SEAL_INTERVAL_MS and
  seals all of them in one batch (chain.seal): the cost of sealing follows time,
  not the number of writes or writers, and an entry is sealed within about one
  interval of its commit;
- the others try to take the lead every AUDIT_SEQUENCER_RETRY_SECONDS; meanwhile,
  if an entry has waited longer than AUDIT_SEAL_TAKEOVER_SECONDS (a stalled
  leader), they seal it themselves;
- a process that wrote entries seals what is pending when it exits, so a short
  command leaves nothing behind.

The chain's correctness never rests on the election: sealing always takes the
chain head's row lock, so two sealers at once (a takeover, an erasure, the
verifier) seal one after the other and the chain cannot fork. The leader keeps its
connection (one of its process's pool) for as long as it leads.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading

from django.conf import settings

logger = logging.getLogger(__name__)

# pg_try_advisory_lock key of the leader: "audit-sequencer" as a 63-bit number.
LEADER_KEY = 0x6175646974736571


class Sequencer:
    def __init__(self):
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._stop = threading.Event()
        self._exit_hook = False
        self.leading = False
        self.wrote = False  # entries appended by this process since it started

    # --- writers ---------------------------------------------------------------

    def notify(self) -> None:
        """An entry was appended: make sure this process's sequencer runs. No I/O."""
        self.wrote = True
        thread = self._thread
        if thread is None or self._pid != os.getpid() or not thread.is_alive():
            self.start()

    # --- life cycle ------------------------------------------------------------

    def start(self) -> None:
        with self._guard:
            thread = self._thread
            if thread is not None and self._pid == os.getpid() and thread.is_alive():
                return
            # A new process (fork) or a stopped thread: state from before is void.
            self._pid = os.getpid()
            self.leading = False
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(self._stop,),
                                            name="audit-sequencer", daemon=True)
            self._thread.start()
            if not self._exit_hook:
                atexit.register(self._at_exit)
                self._exit_hook = True

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop this process's thread (it gives up the lead and its connection)."""
        thread, stop = self._thread, self._stop
        stop.set()
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None
        self.wrote = False

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _at_exit(self) -> None:
        wrote = self.wrote and self._pid == os.getpid()
        self.stop(timeout=5.0)
        if not wrote:
            return
        from compliance import chain

        try:
            chain.seal()
        except Exception:  # noqa: BLE001 - the next sealer seals them; the alert reports it
            logger.exception("audit: sealing pending entries at exit failed")

    # --- the thread --------------------------------------------------------------

    def _run(self, stop: threading.Event) -> None:
        from django.db import connection

        try:
            while not stop.is_set():
                try:
                    pause = self._step()
                except Exception:  # noqa: BLE001 - a database outage: retry, never die
                    logger.exception("audit: the sequencer failed; retrying")
                    self._step_down()
                    connection.close()
                    pause = settings.AUDIT_SEQUENCER_RETRY_SECONDS
                stop.wait(pause)
        finally:
            self._step_down()
            connection.close()

    def _step(self) -> float:
        """One round; returns how long to wait before the next."""
        from django.db import connection

        from compliance import chain

        if not self.leading:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [LEADER_KEY])
                self.leading = bool(cursor.fetchone()[0])
        if self.leading:
            if chain.pending():
                chain.seal(wait=False, drain=False)  # one round; the next one interval on
            return settings.AUDIT_SEAL_INTERVAL_MS / 1000
        # Another process leads. Seal only what it has left waiting too long.
        if chain.unsealed_status().oldest_seconds > settings.AUDIT_SEAL_TAKEOVER_SECONDS:
            chain.seal(wait=False)
        connection.close()  # back to the pool until the next try
        return settings.AUDIT_SEQUENCER_RETRY_SECONDS

    def _step_down(self) -> None:
        from django.db import connection

        if not self.leading:
            return
        self.leading = False
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LEADER_KEY])
        except Exception:  # noqa: BLE001 - a broken connection has lost the lock already
            pass
        connection.close()


sequencer = Sequencer()
