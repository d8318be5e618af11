"""A model of the RFC 6241 lock rules that predicts every reply of concurrent sessions.

What the agent answers to lock, unlock, edit-config, commit and discard-changes
depends on four pieces of state: who holds the running lock, who holds the
candidate lock, which session's confirmed commit is pending, and whether the
shared candidate holds uncommitted changes. The rules (RFC 6241 7.5, 7.6, 8.3,
8.4 and the agent's documented choices):

- lock: lock-denied naming the holder if the datastore is locked (also for the
  holder itself); lock-denied with session-id 0 for the candidate while it has
  uncommitted changes, and for running while a confirmed commit is pending.
- unlock: operation-failed unless this session holds the lock (naming the holder).
- edit-config, discard-changes: in-use naming the holder of the target's lock;
  edit of running also operation-failed while another session's confirmed
  commit is pending (its revert would undo the edit).
- commit: in-use naming the holder of the running, then the candidate lock;
  operation-failed while another session's confirmed commit is pending.
- close-session and kill-session release the session's locks (the candidate
  lock takes its uncommitted changes with it) and revert its confirmed commit.

Sessions run at the same time, so the model cannot know in which order the
agent serialised their RPCs. Every RPC gets a `Ticket` when it is sent and is
checked when its reply arrives against the set of replies that any state the
agent may have had in between allows. A session's own locks are known for
certain (only its own RPCs take them, and it sends one at a time); what other
sessions may hold is "the certain holder", or, while acquiring or releasing RPCs
are in flight, every value those RPCs may leave. The candidate's "modified" flag
is set by edits and cleared by commits and discards of any session: the model
keeps the values of the completed RPCs not known to precede another completed
one (B precedes A for sure when B's reply came before A was sent) plus those in
flight. With one RPC at a time (the stateful test) every set has one member and
the prediction is exact. Thread-safe.

Callers' side of the contract: every edit-config of the candidate changes it
(an edit that changes nothing leaves it unmodified); confirmed commits are
confirmed well within their timeout; kill-session is predicted from the
sessions open when it is sent (exact when RPCs run one at a time).
"""

from __future__ import annotations

import enum
import itertools
import threading
from dataclasses import dataclass, field


class Target(enum.StrEnum):
    """The lockable datastores the model follows."""

    RUNNING = "running"
    CANDIDATE = "candidate"


class Kind(enum.StrEnum):
    """The RPCs the model predicts (reads and validate always answer ok)."""

    GET_CONFIG = "get-config"
    GET_CONFIG_FULL = "get-config-full"
    GET = "get"
    VALIDATE = "validate"
    EDIT_CANDIDATE = "edit-candidate"
    EDIT_RUNNING = "edit-running"
    COMMIT = "commit"
    CONFIRMED_COMMIT = "confirmed-commit"
    DISCARD = "discard-changes"
    LOCK = "lock"
    UNLOCK = "unlock"
    CLOSE = "close-session"
    KILL = "kill-session"


@dataclass(frozen=True)
class Request:
    """One RPC of session `session`: `target` for lock/unlock, `victim` for kill-session."""

    kind: Kind
    session: int
    target: Target | None = None
    victim: int | None = None

    @property
    def label(self) -> str:
        """The operation name for reports (lock-running, unlock-candidate, ...)."""
        return f"{self.kind}-{self.target}" if self.target is not None else str(self.kind)


@dataclass(frozen=True)
class Outcome:
    """A reply: `tag` is "ok" or the error-tag; `session_id` the error-info session-id."""

    tag: str
    session_id: int | None = None

    def __str__(self) -> str:
        return self.tag if self.session_id is None else f"{self.tag}(session {self.session_id})"


OK = Outcome("ok")
Holder = int | None


@dataclass
class View:
    """Every value each piece of state may have had while one RPC was in flight."""

    running: set[Holder] = field(default_factory=set)
    candidate: set[Holder] = field(default_factory=set)
    pending: set[Holder] = field(default_factory=set)
    modified: set[bool] = field(default_factory=set)
    victim_open: bool = True  # kill-session: the victim is another open session

    def __str__(self) -> str:
        def show(values: set[Holder] | set[bool]) -> str:
            return "/".join(sorted(str(v) for v in values))

        return (
            f"running lock {show(self.running)}, candidate lock {show(self.candidate)}, "
            f"pending confirm {show(self.pending)}, candidate modified {show(self.modified)}"
        )


def outcome(
    request: Request, running: Holder, candidate: Holder, pending: Holder, modified: bool
) -> Outcome:
    """The agent's reply to `request` in one definite state (the rules above)."""
    me, kind = request.session, request.kind
    holders = {Target.RUNNING: running, Target.CANDIDATE: candidate}
    if kind is Kind.LOCK:
        assert request.target is not None
        holder = holders[request.target]
        if holder is not None:
            return Outcome("lock-denied", holder)
        if request.target is Target.CANDIDATE and modified:
            return Outcome("lock-denied", 0)
        if request.target is Target.RUNNING and pending is not None:
            return Outcome("lock-denied", 0)
        return OK
    if kind is Kind.UNLOCK:
        assert request.target is not None
        holder = holders[request.target]
        if holder != me:
            return Outcome("operation-failed", holder)
        return OK
    if kind in (Kind.EDIT_CANDIDATE, Kind.DISCARD):
        return Outcome("in-use", candidate) if candidate not in (None, me) else OK
    if kind is Kind.EDIT_RUNNING:
        if running not in (None, me):
            return Outcome("in-use", running)
        return Outcome("operation-failed") if pending not in (None, me) else OK
    if kind in (Kind.COMMIT, Kind.CONFIRMED_COMMIT):
        for holder in (running, candidate):
            if holder not in (None, me):
                return Outcome("in-use", holder)
        return Outcome("operation-failed") if pending not in (None, me) else OK
    return OK


def predict(request: Request, view: View) -> frozenset[Outcome]:
    """Every reply some state of `view` allows."""
    if request.kind is Kind.KILL:
        return frozenset({OK if view.victim_open else Outcome("invalid-value")})
    return frozenset(
        outcome(request, *state)
        for state in itertools.product(view.running, view.candidate, view.pending, view.modified)
    )


@dataclass
class _Slot:
    """Who holds a lock (or owns the pending confirmed commit): the holder certain
    from replies, sessions whose RPC may take it, sessions whose RPC may release it."""

    holder: Holder = None
    takers: set[int] = field(default_factory=set)
    releasers: set[int] = field(default_factory=set)

    def possible(self, viewer: int) -> set[Holder]:
        """What the holder may be, as seen by `viewer` (its own RPC left out)."""
        releasing = bool(self.releasers - {viewer})
        if self.holder is not None and not releasing:
            return {self.holder}
        return {None, self.holder} | (self.takers - {viewer})


@dataclass
class _Flag:
    """The candidate's modified flag: values of completed setters not known to
    precede another completed one, as (reply sequence number, value), and the
    values in-flight setters may leave."""

    settled: list[tuple[int, bool]]
    in_flight: dict[int, bool] = field(default_factory=dict)

    def possible(self, viewer: int) -> set[bool]:
        flying = {v for s, v in self.in_flight.items() if s != viewer}
        return {value for _, value in self.settled} | flying

    def settle(self, value: bool, sent: int, replied: int) -> None:
        self.settled = [(r, v) for r, v in self.settled if r > sent] + [(replied, value)]


@dataclass
class Ticket:
    """One RPC in flight: what it asked and every state it may have met."""

    request: Request
    sent: int
    view: View = field(default_factory=View)


@dataclass(frozen=True)
class Violation:
    """A reply the model did not predict."""

    request: Request
    predicted: frozenset[Outcome]
    actual: Outcome
    view: str

    def __str__(self) -> str:
        allowed = ", ".join(sorted(str(o) for o in self.predicted))
        return (
            f"session {self.request.session} {self.request.label}: got {self.actual}, "
            f"expected one of [{allowed}] ({self.view})"
        )


class LockModel:
    """The lock rules over the open sessions; `begin` before sending, `finish` after."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._clock = itertools.count(1)
        self.slots = {Target.RUNNING: _Slot(), Target.CANDIDATE: _Slot()}
        self.pending = _Slot()
        self.modified = _Flag(settled=[(0, False)])
        self.open: set[int] = set()
        self._active: dict[int, Ticket] = {}

    def opened(self, session: int) -> None:
        """Session `session` has started (its hello arrived)."""
        with self._mutex:
            self.open.add(session)

    def holder(self, target: Target) -> Holder:
        """The certain holder of `target`'s lock (exact between RPCs)."""
        return self.slots[target].holder

    @property
    def pending_owner(self) -> Holder:
        """The session whose confirmed commit is pending (exact between RPCs)."""
        return self.pending.holder

    def begin(self, request: Request) -> Ticket:
        """Register an RPC about to be sent; one per session at a time."""
        with self._mutex:
            me = request.session
            assert me not in self._active, f"session {me} already has an RPC in flight"
            ticket = Ticket(request, next(self._clock))
            ticket.view.victim_open = request.victim in self.open - {me}
            self._active[me] = ticket
            kind = request.kind
            if kind is Kind.LOCK:
                assert request.target is not None
                self.slots[request.target].takers.add(me)
            elif kind is Kind.UNLOCK:
                assert request.target is not None
                if self.slots[request.target].holder == me:
                    self.slots[request.target].releasers.add(me)
            elif kind in (Kind.EDIT_CANDIDATE, Kind.COMMIT, Kind.CONFIRMED_COMMIT, Kind.DISCARD):
                self.modified.in_flight[me] = kind is Kind.EDIT_CANDIDATE
                if kind is Kind.CONFIRMED_COMMIT:
                    self.pending.takers.add(me)
                elif kind is Kind.COMMIT and self.pending.holder == me:
                    self.pending.releasers.add(me)
            elif kind in (Kind.CLOSE, Kind.KILL):
                victim = me if kind is Kind.CLOSE else request.victim
                for slot in (*self.slots.values(), self.pending):
                    if slot.holder == victim:
                        slot.releasers.add(me)
                if self.slots[Target.CANDIDATE].holder == victim:
                    self.modified.in_flight[me] = False
            self._observe()
            return ticket

    def finish(self, ticket: Ticket, actual: Outcome) -> Violation | None:
        """Check the reply of `ticket` and apply its effect; the violation, if any."""
        with self._mutex:
            request, me = ticket.request, ticket.request.session
            predicted = predict(request, ticket.view)
            violation = None
            if actual not in predicted:
                violation = Violation(request, predicted, actual, str(ticket.view))
            replied = next(self._clock)
            if actual == OK:
                self._apply(request, ticket.sent, replied)
            for slot in (*self.slots.values(), self.pending):
                slot.takers.discard(me)
                slot.releasers.discard(me)
            self.modified.in_flight.pop(me, None)
            del self._active[me]
            self._observe()
            return violation

    def _apply(self, request: Request, sent: int, replied: int) -> None:
        me, kind = request.session, request.kind
        if kind is Kind.LOCK:
            assert request.target is not None
            self.slots[request.target].holder = me
        elif kind is Kind.UNLOCK:
            assert request.target is not None
            slot = self.slots[request.target]
            slot.holder = None if slot.holder == me else slot.holder
        elif kind is Kind.EDIT_CANDIDATE:
            self.modified.settle(True, sent, replied)
        elif kind in (Kind.COMMIT, Kind.CONFIRMED_COMMIT, Kind.DISCARD):
            self.modified.settle(False, sent, replied)
            if kind is Kind.CONFIRMED_COMMIT:
                self.pending.holder = me
            elif kind is Kind.COMMIT and self.pending.holder == me:
                self.pending.holder = None
        elif kind in (Kind.CLOSE, Kind.KILL):
            victim = me if kind is Kind.CLOSE else request.victim
            assert victim is not None
            self._release(victim, sent, replied)

    def _release(self, victim: int, sent: int, replied: int) -> None:
        """A session ended: its locks go, its candidate changes and confirmed commit too."""
        self.open.discard(victim)
        if self.slots[Target.CANDIDATE].holder == victim:
            self.modified.settle(False, sent, replied)
        for slot in (*self.slots.values(), self.pending):
            if slot.holder == victim:
                slot.holder = None

    def _observe(self) -> None:
        """Add the state as it may be now to every RPC in flight."""
        for me, ticket in self._active.items():
            view = ticket.view
            view.running |= self.slots[Target.RUNNING].possible(me)
            view.candidate |= self.slots[Target.CANDIDATE].possible(me)
            view.pending |= self.pending.possible(me)
            view.modified |= self.modified.possible(me)
