"""How `watch` gathers a burst of events into one event run: until the queue is quiet for
`quiet` seconds, and at the latest `debounce` seconds after the first (a fake clock and a
fake queue: the schedule of arrivals decides, not the machine's speed)."""

from __future__ import annotations

import json

import pytest

from iamdrift.changes.events import DETAIL_TYPE
from iamdrift.emulator.events import record
from iamdrift.runs import watch as watch_module
from iamdrift.runs.watch import Watcher, WatchOptions


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Queue:
    """Messages arriving at given times; a receive waits up to WaitTimeSeconds for one."""

    def __init__(self, clock: Clock, arrivals: list[float], cost: float = 0.0):
        self.clock, self.pending = clock, sorted(arrivals)
        self.cost = cost  # seconds a receive that returns messages takes
        self.waits: list[int] = []
        self.sent = 0
        self.idle = 0  # receives that neither waited nor found anything

    def receive_message(self, WaitTimeSeconds: int, **_: object) -> dict:
        self.waits.append(WaitTimeSeconds)
        due = self.pending[0] if self.pending else None
        if due is None or due > self.clock.now + WaitTimeSeconds:
            self.clock.now += WaitTimeSeconds
            self.idle += WaitTimeSeconds == 0
            return {}
        self.clock.now = max(self.clock.now, due)
        ready = [t for t in self.pending if t <= self.clock.now][:10]
        self.clock.now += self.cost
        self.pending = self.pending[len(ready) :]
        self.sent += len(ready)
        return {"Messages": [_message(self.sent - n) for n in range(len(ready))]}

    def delete_message_batch(self, **_: object) -> dict:
        return {}


def _message(n: int) -> dict:
    detail = record("222222222222", "iam", "CreateRole", {"roleName": f"r{n}"}, "arn:aws:iam::1:x")
    body = {"detail-type": DETAIL_TYPE, "source": "aws.iam", "detail": detail}
    return {"MessageId": str(n), "ReceiptHandle": str(n), "Body": json.dumps(body)}


@pytest.mark.parametrize(
    "arrivals, cost, batched, closed_at",
    [
        ([0.0], 0, 1, 2.0),  # a lone change waits `quiet`, not `debounce`
        ([0.0, 1.5, 3.0, 4.5], 0, 4, 6.5),  # each within `quiet` of the last: one batch
        ([0.0, 0.2, 0.4, 3.0], 0, 3, 2.4),  # a gap longer than `quiet`: the next batch's
        ([n * 0.5 for n in range(120)], 0, 31, 15.0),  # a long stream: cut at `debounce`
        ([0.0, 1.0, 1.99], 0, 3, 3.99),  # the rest of a window under a second: slept, looked
        # A burst that arrived faster than it is received: what already waits on the queue
        # when the window closes (receives that come back full) joins the batch...
        ([n * 0.02 for n in range(500)], 0.5, 500, 26.0),
        # ... for `debounce` more seconds at the most, however fast events keep coming.
        ([n * 0.01 for n in range(10_000)], 0.5, 591, 30.5),
    ],
)
def test_a_burst_is_judged_once_the_queue_is_quiet_or_the_window_ends(
    monkeypatch, arrivals, cost, batched, closed_at
):
    clock = Clock()
    monkeypatch.setattr(watch_module.time, "monotonic", clock.monotonic)
    monkeypatch.setattr(watch_module.time, "sleep", clock.sleep)
    queue = Queue(clock, arrivals, cost)
    watcher = Watcher(WatchOptions(queue="q", debounce=15.0, quiet=2.0), queue)
    batch = watcher.collect()
    assert len(batch) == batched
    assert clock.now == pytest.approx(closed_at)
    assert queue.idle <= 1  # never a hot loop of empty receives: one last look at most


def test_a_message_received_twice_in_a_batch_is_judged_once_by_its_latest_receipt():
    """Its visibility ran out while the batch gathered: SQS handed it out again."""
    first, again = _message(0), {**_message(0), "ReceiptHandle": "again"}

    class Twice:
        answers = [{"Messages": [first]}, {"Messages": [again]}]

        def receive_message(self, **_: object) -> dict:
            return self.answers.pop(0) if self.answers else {}

    batch = Watcher(WatchOptions(queue="q", debounce=0.1, quiet=0.1), Twice()).collect()
    assert [h.receipt for h in batch] == ["again"]


def test_messages_are_deleted_and_extended_ten_to_a_call_and_failures_are_counted():
    """SQS's batch actions take up to ten entries; a batch answers 200 with some of them
    failed, and those come back to be judged again (counted, never a crash)."""
    from iamdrift.runs.watch import Held

    calls: list[tuple[str, list[dict]]] = []

    class Sqs:
        def delete_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
            calls.append(("delete", Entries))
            failed = [{"Id": Entries[0]["Id"], "Code": "ReceiptHandleIsInvalid"}]
            return {"Failed": failed if len(calls) == 1 else []}

        def change_message_visibility_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
            calls.append(("extend", Entries))
            return {}

    watcher = Watcher(WatchOptions(queue="q", visibility=90), Sqs())
    watcher._delete([str(n) for n in range(23)])
    held = [Held(str(n), None, str(n)) for n in range(12)]  # type: ignore[arg-type]
    watcher._extend(held)
    assert [(what, len(entries)) for what, entries in calls] == [
        ("delete", 10),
        ("delete", 10),
        ("delete", 3),
        ("extend", 10),
        ("extend", 2),
    ]
    deleted = [e["ReceiptHandle"] for what, entries in calls if what == "delete" for e in entries]
    assert deleted == [str(n) for n in range(23)]
    assert all(e["VisibilityTimeout"] == 90 for what, es in calls if what == "extend" for e in es)
    assert all(len({e["Id"] for e in es}) == len(es) for _, es in calls)  # ids distinct per call
    assert watcher.counts["delete errors"] == 1
