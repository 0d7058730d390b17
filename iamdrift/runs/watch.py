"""`watch --queue URL`: the accounts a change touched judged within a minute of it, from the
change's own CloudTrail event (EventBridge delivers it to an SQS queue).

The loop: long-poll the queue; read each message (`changes/events.py`); wait a short
debounce window for the rest of a burst (a Terraform apply is dozens of events); then one
event run of every account the batch touched (`iamdrift run --event-batch`, a child
process under the report directory's lock, as scheduled runs are), the other accounts
carried from the latest run. Messages are deleted only once that run is in the history:
a crash, a kill or a failed run leaves them to come back (SQS's visibility timeout),
and, when they keep failing, to the queue's redrive policy (its dead-letter queue).

Several `watch` processes on one queue share the work, as SQS's competing consumers: a
message is hidden from the others while one judges it (its visibility extended for as
long as that takes), and runs on one report directory never overlap (its lock).
"""

from __future__ import annotations

import json
import logging
import signal
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from iamdrift.changes.events import ChangeEvent, EventBatch, Ignored, MalformedEvent, read_event
from iamdrift.errors import aws_error_text
from iamdrift.report import history
from iamdrift.runs.child import filed_run, report_lock

log = logging.getLogger("iamdrift.watch")
LONG_POLL = 20  # SQS's longest wait for a message, in seconds
STOP_WITHIN = 30.0  # SIGTERM to exit: a poll's wait and a run stopped


@dataclass
class WatchOptions:
    queue: str
    baselines: str = "baselines"
    report_dir: str = "reports"
    # A batch is judged once no event came for `quiet` seconds, and at the latest
    # `debounce` seconds after its first event (a long apply's events are judged as they go).
    debounce: float = 15.0
    quiet: float = 2.0
    visibility: int = 120  # seconds a received message stays hidden; extended while judged
    wait: int = LONG_POLL
    once: bool = False  # judge what the queue holds, then exit
    concurrency: int = 8
    account_timeout: float = 180.0
    keep: int = 60
    notify_url: str | None = None
    timeout: float = 3600.0  # seconds before an event run is killed


class _Interrupted(BaseException):  # not Exception: botocore would retry past it
    """SIGTERM during a long poll: what it would have received comes back to the queue."""


@dataclass
class Held:
    """A received message waiting to be judged: deleted once its run is filed."""

    receipt: str
    event: ChangeEvent
    message_id: str = ""
    received: float = field(default_factory=time.monotonic)


@dataclass
class Watcher:
    opts: WatchOptions
    sqs: Any  # a guarded botocore SQS client
    counts: Counter[str] = field(default_factory=Counter)
    stopping: bool = False
    polling: bool = False  # in a long poll, which a stop interrupts (nothing is lost)

    def install_signal_handlers(self) -> None:
        def stop(signum: int, _frame: object) -> None:
            log.info("received %s: stopping", signal.Signals(signum).name)
            self.stopping = True
            if self.polling:
                raise _Interrupted

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    # --- the queue -------------------------------------------------------------------

    def receive(self, wait: float) -> list[Held]:
        """Messages now on the queue (waiting up to `wait` seconds for the first), read."""
        return self.read(self._messages(wait))

    def _messages(self, wait: float) -> list[dict[str, Any]]:
        """Up to ten messages, as SQS hands them out (none when it fails: logged, counted)."""
        try:
            self.polling = not self.stopping
            if not self.polling:
                return []
            answer = self.sqs.receive_message(
                QueueUrl=self.opts.queue,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=max(0, min(LONG_POLL, round(wait))),
                VisibilityTimeout=self.opts.visibility,
            )
        except _Interrupted:
            return []
        except (ClientError, BotoCoreError) as exc:
            log.error("cannot receive from %s: %s", self.opts.queue, aws_error_text(exc))
            self.counts["receive errors"] += 1
            time.sleep(min(5.0, max(wait, 1.0)))  # a queue that fails is not polled hot
            return []
        finally:
            self.polling = False
        return answer.get("Messages", [])

    def read(self, messages: list[dict[str, Any]]) -> list[Held]:
        """Events that change nothing deleted and counted, bodies that are not events left
        for the redrive policy, the rest held to be judged."""
        held, nothing = [], []
        for message in messages:
            mid, receipt = message.get("MessageId", ""), message["ReceiptHandle"]
            try:
                read = read_event(message.get("Body", ""))
            except MalformedEvent as exc:
                log.warning(
                    "message %s is not an event (%s): left for the redrive policy", mid, exc
                )
                self.counts["malformed"] += 1
                continue
            if isinstance(read, Ignored):
                self.counts["ignored"] += 1
                self.counts[f"ignored: {read.reason}"] += 1
                nothing.append(receipt)
                continue
            held.append(Held(receipt, read, mid))
        self._delete(nothing)
        return held

    # Ten messages to a call, SQS's batch actions: a burst of 500 events is 50 deletes, not
    # 500. IAM grants them by the single actions: "You cannot set permissions explicitly
    # for SendMessageBatch, DeleteMessageBatch, or ChangeMessageVisibilityBatch. Instead,
    # setting permissions for SendMessage, DeleteMessage, or ChangeMessageVisibility sets
    # permissions for the corresponding batch versions of the actions." (Amazon SQS
    # Developer Guide, "Amazon SQS batch actions").

    def _delete(self, receipts: list[str]) -> None:
        """Deleted; one that is not comes back and is judged once more."""
        for chunk in _tens(receipts):
            entries = [{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(chunk)]
            self._batch("delete", self.sqs.delete_message_batch, entries)

    def _extend(self, batch: list[Held]) -> None:
        for chunk in _tens(batch):
            entries = [
                {
                    "Id": str(i),
                    "ReceiptHandle": h.receipt,
                    "VisibilityTimeout": self.opts.visibility,
                }
                for i, h in enumerate(chunk)
            ]
            self._batch("extend", self.sqs.change_message_visibility_batch, entries)

    def _batch(self, what: str, call: Any, entries: list[dict[str, Any]]) -> None:
        """A batch call; its failures, whole or per message (a batch answers 200 with some
        entries failed), logged and counted."""
        try:
            failed = call(QueueUrl=self.opts.queue, Entries=entries).get("Failed", [])
        except (ClientError, BotoCoreError) as exc:
            log.warning("cannot %s %d message(s): %s", what, len(entries), aws_error_text(exc))
            self.counts[f"{what} errors"] += len(entries)
            return
        for f in failed:
            log.warning("cannot %s a message: %s %s", what, f.get("Code"), f.get("Message", ""))
        self.counts[f"{what} errors"] += len(failed)

    # --- judging ---------------------------------------------------------------------

    def collect(self) -> list[Held]:
        """A batch: the first messages to arrive, and those that follow until the queue has
        been quiet for `quiet` seconds or `debounce` seconds have passed since the first (one
        read per account per batch, however many events; a lone change waits `quiet`)."""
        batch = self.receive(1 if self.opts.once else self.opts.wait)
        if not batch:
            return []
        first = last = time.monotonic()
        while not self.stopping:
            left = min(first + self.opts.debounce, last + self.opts.quiet) - time.monotonic()
            if left < 1:  # SQS waits in whole seconds: the rest of the window, then a look
                time.sleep(max(0.0, left))
                return _unique(batch + self._waiting(first + 2 * self.opts.debounce))
            more = self.receive(1)
            if more:
                batch, last = batch + more, time.monotonic()
        return _unique(batch)

    def _waiting(self, until: float) -> list[Held]:
        """What already waits on the queue as the window closes: receives that come back
        full are a burst that arrived faster than it is received, and join the batch (one
        read per account, not one per page), until `until` at the latest."""
        out: list[Held] = []
        while not self.stopping:
            page = self._messages(0)
            out += self.read(page)
            if len(page) < 10 or time.monotonic() >= until:
                break
        return out

    def judge(self, batch: list[Held]) -> bool:
        """One event run of the batch's accounts; its messages deleted once it is filed."""
        accounts = sorted({a for h in batch for a in h.event.accounts})
        events = [h.event.fact for h in batch]
        began = time.monotonic()
        extended = [began]

        def tick() -> None:  # keep the batch hidden from other consumers while it is judged
            if time.monotonic() - extended[0] >= self.opts.visibility / 3:
                self._extend(batch)
                extended[0] = time.monotonic()

        def waiting() -> bool:
            tick()
            return not self.stopping

        report_dir = Path(self.opts.report_dir)
        with tempfile.TemporaryDirectory() as tmp:
            file = Path(tmp) / "events.json"
            touched = any(h.event.organization for h in batch)
            file.write_text(
                EventBatch(accounts=accounts, events=events, organization=touched).write()
            )
            with report_lock(report_dir, wait=waiting) as lock:
                if lock is None:  # stopping: the messages come back to whoever is next
                    return False
                run_id, code = filed_run(
                    report_dir,
                    self._run_args(file),
                    lock,
                    self.opts.timeout,
                    self.opts.keep,
                    lambda: self.stopping,
                    tick,
                )
        if code is None:
            self.counts["failed runs"] += 1
            return False
        filed = time.monotonic()
        self._delete([h.receipt for h in batch])
        self.counts["events judged"] += len(batch)
        self.counts["runs"] += 1
        log.info(
            "event run %s: %d event(s), read %s; waited %.1fs for the burst, the run took "
            "%.1fs, deleting its messages %.1fs; exit %s",
            run_id,
            len(batch),
            ", ".join(accounts) or "the organization",
            began - min(h.received for h in batch),
            filed - began,
            time.monotonic() - filed,
            code,
        )
        return True

    def _run_args(self, batch_file: Path) -> list[str]:
        o = self.opts
        args = ["--baselines", o.baselines, "--event-batch", str(batch_file)]
        args += ["--concurrency", str(o.concurrency), "--account-timeout", str(o.account_timeout)]
        return args + (["--notify-url", o.notify_url] if o.notify_url else [])

    def loop(self) -> int:
        """Until stopped (or, with `once`, until the queue is empty): 0, or 1 when a run
        failed (its events come back)."""
        self.install_signal_handlers()
        warn_if_stale(Path(self.opts.report_dir))
        log.info("watching %s", self.opts.queue)
        failed = False
        while not self.stopping:
            batch = self.collect()
            if self.stopping:
                break  # what was received comes back to the next consumer
            if not batch:
                if self.opts.once:
                    break
                continue
            failed = not self.judge(batch) or failed
        log.info("watch stopped: %s", json.dumps(dict(sorted(self.counts.items()))))
        failed = failed or bool(self.counts["receive errors"])
        return 1 if failed and self.opts.once else 0


def _tens(items: list) -> list[list]:
    return [items[i : i + 10] for i in range(0, len(items), 10)]


def _unique(batch: list[Held]) -> list[Held]:
    """A message received again within one batch (its visibility ran out meanwhile) once,
    by its latest receipt. Amazon SQS API Reference, DeleteMessage: "you must use the
    ReceiptHandle from the most recent time you received the message. If you use an old
    ReceiptHandle, the request will succeed, but the message might not be deleted."
    """
    latest = {h.message_id or h.receipt: h for h in batch}
    return list(latest.values())


def warn_if_stale(report_dir: Path) -> None:
    """EventBridge delivers events on a best-effort basis: the nightly full run is the
    safety net, and watch says so when it is missing or older than a day."""
    full = [r for r in history.runs(report_dir) if r.trigger is None and r.status != "failed"]
    if not full:
        log.warning("no full run in %s yet: events are judged against a full read", report_dir)
        return
    try:
        started = datetime.fromisoformat(full[-1].started)
    except ValueError:
        return
    if datetime.now(UTC) - started > timedelta(days=1):
        log.warning(
            "the latest full run (%s) is older than a day: events can be late or lost, and "
            "the nightly run is what catches them",
            full[-1].id,
        )


def queue_region(url: str) -> str | None:
    """`https://sqs.eu-west-1.amazonaws.com/...` -> eu-west-1 (None for an endpoint that
    does not say, such as a local emulator's).

    >>> queue_region("https://sqs.eu-west-1.amazonaws.com/111111111111/iamdrift-events")
    'eu-west-1'
    """
    host = url.split("://", 1)[-1].split("/", 1)[0]
    parts = host.split(".")
    if len(parts) >= 4 and parts[0] == "sqs":
        return parts[1]
    if len(parts) >= 4 and parts[1] == "queue":  # the legacy REGION.queue.amazonaws.com
        return parts[0]
    return None


def watch(opts: WatchOptions) -> int:
    from iamdrift.aws.session import Clients

    sqs = Clients().hub("sqs", queue_region(opts.queue))
    return Watcher(opts, sqs).loop()
