"""Tracking from a second process: a job computes, a tracking process talks to MLflow.

Importing mlflow, creating a fresh SQLite store (its schema migrations), opening runs and copying
artifacts cost the main job several seconds of one core; none of it is needed to compute. A
:class:`Tracker` starts a child process that does that set-up at once, while the job computes, and
then replays, in order, what the job records through :class:`RecordingRun` handles (the same
methods as :class:`~njforecast.tracking.runs.Run`). The job waits for the child only at the end
(:meth:`Tracker.close`), so on two cores the store work overlaps the computation.

Order and outcome are those of direct logging: runs open, are logged to and end in the order the
job recorded them; a run whose block raised ends FAILED with the error tag; a logging error in the
child is raised in the job by :meth:`Tracker.close` (the job's files are already written, so
nothing of the job's output is lost or half-written).

The child is started with the ``spawn`` method (no locks or thread pools inherited from the job);
as with any spawned process, a script that logs a pipeline must keep its top-level work under
``if __name__ == "__main__":`` (the ``njforecast`` command does).

Public names:
    Tracker(tracking_uri, experiment)   start the tracking process; ``open(run_name, tags)``
                                        → context manager yielding a :class:`RecordingRun`;
                                        ``close()`` → {run key: MLflow run id}
    RecordingRun                        records log_params / log_metrics / log_frame / log_file /
                                        log_dataset / set_tags / log_environment / apply, and
                                        ``nested(run_name, tags)`` for child runs
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
from collections.abc import Callable, Iterator, Mapping
from typing import Any

#: Run methods a RecordingRun forwards unchanged (arguments must pickle: frames, dicts, paths).
FORWARDED = ("set_tags", "log_params", "log_metrics", "log_file", "log_frame", "log_dataset",
             "log_environment")


class TrackingError(RuntimeError):
    """The tracking process failed (its message names the operation and the MLflow error)."""


class RecordingRun:
    """A run handle in the computing process: each call is sent to the tracking process."""

    def __init__(self, tracker: Tracker, key: int, tracking_uri: str):
        self._tracker = tracker
        self.key = key
        self.tracking_uri = tracking_uri
        #: the MLflow run id is known only in the tracking process (``Tracker.close`` returns it)
        self.run_id: str | None = None

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name not in FORWARDED:
            raise AttributeError(f"{type(self).__name__} records only {', '.join(FORWARDED)}, "
                                 f"apply and nested; not {name!r}")
        return lambda *args, **kwargs: self._tracker._send(("call", self.key, name, args,
                                                              kwargs))

    def apply(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(run, *args)`` in the tracking process with the live run (``fn`` must be a
        module-level function; e.g. export a model and attach it)."""
        self._tracker._send(("apply", self.key, fn, args))

    @contextlib.contextmanager
    def nested(self, run_name: str, tags: Mapping[str, Any] | None = None
               ) -> Iterator[RecordingRun]:
        """A child run of this one (ends FINISHED, or FAILED when the block raises)."""
        with self._tracker.open(run_name, tags, parent=self) as child:
            yield child


class Tracker:
    """The tracking process for one experiment (see the module docstring).

    Args:
        tracking_uri: MLflow tracking URI (e.g. ``sqlite:///mlflow.db``).
        experiment: experiment name; created in the child as soon as it starts.
    """

    def __init__(self, tracking_uri: str, experiment: str):
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        # spawn: the child starts clean (no inherited locks or thread pools of the parent)
        ctx = mp.get_context("spawn")
        self._conn, child_end = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(tracking_uri, experiment, child_end),
                                 name="njforecast-tracking", daemon=True)
        self._proc.start()
        child_end.close()
        self._next = 0
        self._closed = False

    def _send(self, op: tuple) -> None:
        if self._closed:
            raise TrackingError("the tracking process is closed")
        try:
            self._conn.send(op)
        except (BrokenPipeError, EOFError, OSError) as exc:
            raise TrackingError(f"the tracking process ended early ({exc}); "
                                f"exit code {self._proc.exitcode}") from exc

    @contextlib.contextmanager
    def open(self, run_name: str, tags: Mapping[str, Any] | None = None,
             parent: RecordingRun | None = None) -> Iterator[RecordingRun]:
        """Record a run: it opens in the child, ends FINISHED, or FAILED when the block raises
        (the exception propagates, its text in tag ``error``)."""
        from .runs import _exit_on_sigterm

        key = self._next
        self._next += 1
        self._send(("open", key, None if parent is None else parent.key, run_name,
                    dict(tags or {})))
        handle = RecordingRun(self, key, self.tracking_uri)
        restore = _exit_on_sigterm()  # a terminated job still ends its runs FAILED
        try:
            yield handle
        except BaseException as exc:
            with contextlib.suppress(TrackingError):  # the job's own error is the one to raise
                self._send(("end", key, "FAILED", f"{type(exc).__name__}: {exc}"[:5000]))
            raise
        finally:
            restore()
        self._send(("end", key, "FINISHED", None))

    def close(self, timeout: float = 600.0) -> dict[int, str]:
        """Wait for the child to replay everything; return {run key: run id}.

        Raises:
            TrackingError: an operation failed in the child, or it did not answer in time.
        """
        self._send(("close",))
        self._closed = True
        try:
            if not self._conn.poll(timeout):
                raise TrackingError(f"the tracking process did not finish in {timeout:.0f} s")
            status, payload = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise TrackingError(f"the tracking process ended early ({exc}); "
                                f"exit code {self._proc.exitcode}") from exc
        finally:
            self._proc.join(timeout=30)
            self._conn.close()
        if status != "ok":
            raise TrackingError(payload)
        return payload


def _serve(tracking_uri: str, experiment: str, conn) -> None:
    """The child: set up the store and experiment, then replay operations until ``close``."""
    import signal

    from .runs import ensure_experiment, run

    # Ctrl-C goes to the whole process group: the job decides, and tells this process (or
    # closes its pipe); the records must not be cut in the middle
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    stacks: dict[int, contextlib.ExitStack] = {}
    live: dict[int, Any] = {}
    ids: dict[int, str] = {}
    error: str | None = None
    try:
        ensure_experiment(experiment, tracking_uri)  # while the job computes
    except Exception as exc:  # reported at close, after the job has written its files
        error = f"MLflow store {tracking_uri}: {type(exc).__name__}: {exc}"
    while True:
        try:
            op = conn.recv()
        except (EOFError, OSError):  # the job died without closing (killed): nobody to answer
            op = ("gone",)
        kind = op[0]
        if kind in ("close", "gone"):
            for key in reversed(list(stacks)):  # runs the job left open end FAILED
                with contextlib.suppress(Exception):
                    gone = _JobFailed("the job ended without closing its runs "
                                      f"({'killed' if kind == 'gone' else 'closed early'})")
                    stacks.pop(key).__exit__(_JobFailed, gone, None)
            if kind == "close":
                conn.send(("ok", ids) if error is None else ("error", error))
            conn.close()
            return
        if error is not None:
            continue  # after a failure only the job's outcome matters; skip the rest
        try:
            if kind == "open":
                _, key, parent, name, tags = op
                stack = contextlib.ExitStack()
                live[key] = stack.enter_context(run(
                    experiment, name, tracking_uri,
                    parent=None if parent is None else live[parent], tags=tags))
                stacks[key] = stack
                ids[key] = live[key].run_id
            elif kind == "call":
                _, key, method, args, kwargs = op
                getattr(live[key], method)(*args, **kwargs)
            elif kind == "apply":
                _, key, fn, args = op
                fn(live[key], *args)
            elif kind == "end":
                _, key, status, message = op
                stack = stacks.pop(key)
                if status == "FINISHED":
                    stack.close()
                else:  # the run ends FAILED with the job's error; the job raises it itself
                    failed = _JobFailed(message)
                    stack.__exit__(_JobFailed, failed, None)
        except Exception as exc:
            error = f"MLflow logging ({kind} {op[1:3]!r}): {type(exc).__name__}: {exc}"


class _JobFailed(Exception):
    """The job's own exception, replayed so :func:`~njforecast.tracking.runs.run` marks the run
    FAILED with the job's error text (``error_text``)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.error_text = message
