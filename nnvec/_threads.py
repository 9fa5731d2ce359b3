"""Choosing the fused kernel's thread count by measurement, while it trains.

Why: the fused kernel ends every mini-batch in a barrier (about 5,000 per
epoch at m = 10). On a quiet 2-core machine two threads beat one by about
1.4x; but when another process holds a core, a thread that loses its core
stalls its partner at every barrier until the scheduler gives it back. Two
threads then run 2-9x slower than one with one core busy, and up to 100x
slower with both busy. No fixed count is right on a machine that is
sometimes busy (a laptop, a CI runner, a notebook beside a browser, a sweep
with parallel trials), so nnvec measures.

How: an epoch runs as a series of short segments (whole mini-batches; the
kernel gives the same bits whatever the thread count and however the epoch
is cut). ``ThreadGovernor`` times each segment, keeps the seconds per sample
of each candidate count, and now and then runs a short *probe* segment on
the other count. A probe is sized to cost about ``PROBE_S`` at the probed
count's last measured speed, so probing a count that has collapsed costs one
or two mini-batches, not seconds. A probe that loses clearly (by more than
``TIE_RATIO``) doubles the time until the next one (up to
``PROBE_GAP_MAX_S`` of training); a probe of more threads that loses
narrowly waits only as long as the probing budget asks, because a near tie
can turn at any moment and a pool woken from sleep makes a short probe look
slow (its cost counts the wake-up segment too: on a busy machine waking a
helper can take longer than the probe), while a probe of fewer threads
doubles its wait on any loss (the current count's own segments still watch
for a load); one that wins
switches (to more threads only after ``WINS_TO_GROW`` wins in a row, which
also resets their wait). The current count gives way to fewer threads when
a segment is clearly slower than their last probe, or ``SLOW_SEGMENTS`` in
a row are slower. After a switch, segments grow from probe size to
``SEGMENT_S``, so a wrong switch is caught after a few milliseconds. A
segment on several threads looks at the time every ``MULTI_MAX_BATCHES``
mini-batches, where its threads meet anyway, and stops there once it has
run ``STOP_FACTOR`` times as long as planned (``budget_s``; the kernel
reads the cycle counter, whose rate the engine learns from earlier runs):
a load that comes mid-segment is noticed as soon as with segments of that
many mini-batches, without paying for handing the helpers their work at
each (where there is no cycle counter, segments are cut there). After
any change of thread count, the start of the next segment (a probe's first
third, else one mini-batch) trains but is not judged: it pays for waking
idle helpers and moving the weights between the cores' caches. The engine
runs that start and the rest of its segment as one run and times them
apart inside it (the kernel reads the cycle counter at a mark:
``marked_seconds``); run apart, the helper went back to sleep between them
and was woken twice.

Where Linux's ``/proc/stat`` can be read, a ``LoadMeter`` adds what the
operating system knows: no probe of more threads while other processes
leave no core free for them, a start on every thread when nothing else is
runnable, and longer probes of more threads where there is room; such a
probe that loses is checked by another soon, once, before the budget spaces
them out (a single probe can fall in the slow first milliseconds after an
idle spell). The first segment back on the current count after a probe of
fewer threads is not judged either: its slowness is the probe's cost; nor
is an epoch's tail shorter than ``JUDGE_MIN_S``.

The governor only decides thread counts; the engine runs the segments, on
its own thread and the helpers of a ``Team``.
"""

import ctypes
import functools
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _kernels
from .config import (
    FIRST_BATCHES,
    JUDGE_MIN_S,
    MULTI_MAX_BATCHES,
    PROBE_BUDGET,
    PROBE_GAP_MAX_S,
    PROBE_GAP_MIN_S,
    PROBE_MAX_BATCHES,
    PROBE_ROOM_MARGIN,
    PROBE_ROOM_MAX_BATCHES,
    PROBE_ROOM_S,
    PROBE_S,
    SEGMENT_S,
    SLOW_SEGMENTS,
    STOP_FACTOR,
    SWITCH_MARGIN,
    TIE_RATIO,
    WINS_TO_GROW,
)

_SHARED: dict = {}


def shared_governor(choices, key):
    """The process's governor for ``choices`` and a workload ``key``.

    Why shared: how busy the machine is belongs to the machine, not to one
    network. A grid search or a sweep builds many networks of one shape in a
    process; each would otherwise pay again for the probes that found out
    that two threads stall (one collapsed probe costs a scheduler slice).
    """
    k = (tuple(choices), key)
    gov = _SHARED.get(k)
    if gov is None:
        if len(_SHARED) > 64:  # many shapes in one process: forget the oldest
            _SHARED.pop(next(iter(_SHARED)))
        gov = _SHARED[k] = ThreadGovernor(choices, meter=LoadMeter.for_process())
        gov.timed_inside = True  # the engine's fused kernel times a marked part (marked_seconds)
    return gov


_TEAM: dict = {}


def prediction_team():
    """The process's ``Team`` for prediction outside training, made on first use.

    One per process id: a forked child (a Dask or multiprocessing worker)
    does not inherit its parent's helper threads, so it makes its own.
    """
    pid = os.getpid()
    team = _TEAM.get(pid)
    if team is None:
        _TEAM.clear()
        team = _TEAM[pid] = Team()
    return team


_IDLE: dict = {}  # process id -> idle teams, the last given back first
_IDLE_LOCK = threading.Lock()
#: idle teams kept for the next fit (each holds sleeping helper threads)
IDLE_TEAMS_MAX = 4


def borrow_team(helpers):
    """A ``Team`` with ``helpers`` helper threads running, for one fit.

    Why not a new one each fit: starting and stopping a helper thread for
    every fit made a 1,000-image fit on two threads take 3.61 ms against
    2.09 ms with the team lent again (2-core Intel Xeon;
    ``benchmarks/results/2026-11-28/team-reuse-fourteenth.txt``), and
    ``partial_fit``, a grid search's many fits and the benchmarks'
    one-epoch fits paid that every time. A team given back with
    ``give_back_team`` is lent again (its helpers asleep meanwhile). One team
    per fit, never shared, so fits in several threads of a process each get
    their own. A forked child (a Dask or multiprocessing worker) does not
    inherit its parent's threads: it starts its own.
    """
    with _IDLE_LOCK:
        idle = _idle_teams()
        for i in range(len(idle) - 1, -1, -1):
            if idle[i].helpers == helpers:
                return idle.pop(i)
    return Team(helpers)


def give_back_team(team):
    """Keep ``team`` (from ``borrow_team``, its run finished) for a later fit, or close it."""
    with _IDLE_LOCK:
        idle = _idle_teams()
        if team.pid == os.getpid() and team.helpers and len(idle) < IDLE_TEAMS_MAX:
            idle.append(team)
            return
    team.close()


def _idle_teams():
    pid = os.getpid()
    idle = _IDLE.get(pid)
    if idle is None:
        _IDLE.clear()  # a forked child: the parent's helpers do not exist here
        idle = _IDLE[pid] = []
    return idle


def numba_pool_size():
    """Threads in numba's pool (``NUMBA_NUM_THREADS``, fixed when numba starts)."""
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]


def available_cores():
    """Cores this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


class LoadMeter:
    """How many cores other processes kept busy, read from ``/proc/stat``.

    Why: with one core busy, two threads that meet at a barrier after every
    mini-batch run at the speed of the one that shares its core, but not
    always: a probe of two threads now and then won for a moment, took over,
    and the next segments ran 1.2-1.6x slower than one thread, and even the
    probes that lost cost a few per cent of an epoch
    (``benchmarks/results/2026-11-28/busy-trace-seventeenth.txt`` and
    ``meter-ab-seventeenth.txt``). With both cores busy, one
    thread and two took turns being faster as the scheduler moved the
    spinning processes (one thread alone on a core, or sharing one), the
    two counts were even over a run, and every probe of two threads paid
    for waking a helper that had to wait for a scheduler slice (3-7 ms at
    m = 100). Whether a core is free to take a second thread is a fact the
    kernel's timings only guess at and the operating system counts: the
    CPUs' idle time. Between two readings, the cores the process may run
    on, less their idle time, less this process's own CPU time, are what
    others used. Time of niced processes counts as free while this process
    is not niced itself: the scheduler gives such a process's threads the
    core they ask for.

    ``busy()`` gives that, in cores, for the time since the reading it is
    compared with, or None when it cannot tell: no ``/proc/stat`` (not
    Linux), a CPU missing from it, or less than ``min_s`` seconds since
    (the counts tick every 10 ms). The process's own time counts all its
    threads, so other work in this process (a Dask worker's other
    trainings) looks like room, and the probes' timings decide, as without
    a meter.
    """

    def __init__(self, cpus, path="/proc/stat", min_s=0.05, clock=time.monotonic,
                 own=time.process_time):
        self.cpus = frozenset(int(c) for c in cpus)
        self.path = path
        self.min_s = min_s
        self.clock, self.own = clock, own  # wall and this process's CPU seconds
        try:
            self.tick = 1.0 / os.sysconf("SC_CLK_TCK")
        except (AttributeError, ValueError, OSError):  # not POSIX
            self.tick = 0.01
        self.pid = os.getpid()
        self.running = None  # procs_running at the last reading
        try:
            self.free_nice = os.getpriority(os.PRIO_PROCESS, 0) <= 0
        except (AttributeError, OSError):  # not POSIX
            self.free_nice = False
        self.last = self._read()

    @classmethod
    def for_process(cls):
        """A meter of the CPUs this process may run on, or None where there is none to read."""
        try:
            cpus = os.sched_getaffinity(0)
        except (AttributeError, OSError):  # not Linux
            return None
        meter = cls(cpus)
        return meter if meter.last is not None else None

    def _read(self):
        """(wall seconds, the CPUs' idle seconds, this process's CPU seconds), or None."""
        try:
            with open(self.path, "rb") as f:
                text = f.read()
        except OSError:
            return None
        idle, seen = 0, 0
        self.running = None
        for line in text.splitlines():
            if line.startswith(b"procs_running"):  # threads runnable now, ours included
                try:
                    self.running = int(line.split()[1])
                except (ValueError, IndexError):
                    pass
                continue
            # "cpuN user nice system idle iowait ...": idle and iowait are free time
            if not line.startswith(b"cpu") or line[3:4] in (b" ", b""):
                continue
            fields = line.split()
            try:
                cpu = int(fields[0][3:])
                if cpu in self.cpus:
                    idle += int(fields[4]) + int(fields[5])
                    if self.free_nice:
                        idle += int(fields[2])
                    seen += 1
            except (ValueError, IndexError):
                return None
        if seen != len(self.cpus):
            return None
        return self.clock(), idle * self.tick, self.own()

    def others_running(self):
        """Threads of other processes runnable right now (a snapshot), or None.

        ``procs_running`` counts every runnable thread on the machine, this
        reader included; the caller's helpers are asleep when it asks.
        """
        if self._read() is None or self.running is None:
            return None
        return max(0, self.running - 1)

    def busy(self):
        """Cores others kept busy since the last reading it gave a figure for, or None."""
        if os.getpid() != self.pid:  # a forked child: its CPU time starts afresh
            self.pid, self.last = os.getpid(), self._read()
            return None
        now = self._read()
        last = self.last
        if now is None or last is None:
            self.last = now
            return None
        dt = now[0] - last[0]
        if dt < self.min_s:
            return None
        self.last = now
        used = len(self.cpus) * dt - (now[1] - last[1]) - (now[2] - last[2])
        return max(0.0, used / dt)


class ThreadGovernor:
    """Picks the thread count of each segment of an epoch from measured speed.

    Parameters
    ----------
    choices : tuple of int
        Candidate thread counts, e.g. ``(1, 2)``; the first is used first
        (one thread: the safe start on a machine that may be busy), unless
        a meter shows nothing else runnable: then the largest.
    meter : LoadMeter, optional
        Where given, a probe of more threads is made only while the cores
        have room for them: fewer than ``threads - PROBE_ROOM_MARGIN`` cores
        left free by other processes means no probe (see ``LoadMeter``).

    Use ``plan(m, remaining)`` for the next segment's ``(threads, n_samples)``,
    run it, then ``record(threads, n_samples, seconds, m)``. Decisions depend
    only on the recorded times, so tests drive it with made-up ones.
    """

    def __init__(self, choices, meter=None):
        self.choices = tuple(dict.fromkeys(int(c) for c in choices))
        self.meter = meter
        self.crowded = False  # the meter's last verdict: no room for more threads
        self.skipped = 0  # probes of more threads not made for want of room
        self.current = self.choices[0]
        top = max(self.choices)
        if meter is not None and top > self.current:
            # A machine with room for every thread now: start on them. A
            # fresh governor starting on one thread was rarely moved up by
            # its probes when fits come after pauses (each probe pays for
            # waking the helper, and short probes for handing it the work),
            # so ``nnvec bench`` timed one thread's speed there.
            others = meter.others_running()
            if others is not None and len(meter.cpus) - others >= top - PROBE_ROOM_MARGIN:
                self.current = top
        self.per_sample = dict.fromkeys(self.choices)  # seconds per sample, last measured
        self.gap = dict.fromkeys(self.choices, PROBE_GAP_MIN_S)
        self.wins = dict.fromkeys(self.choices, 0)
        self.lost = dict.fromkeys(self.choices, 0)  # probes lost in a row
        self.tried = dict.fromkeys(self.choices, 0)  # probes of each count so far
        self.clock = 0.0  # seconds of training recorded
        self.last_probe = 0.0
        self.grow = None  # samples of the last segment while growing after a switch
        self.switches = 0
        self.probes = 0
        self.slow = 0  # segments in a row slower than the other count's estimate
        self.last = 1  # threads of the last segment (1: none awake yet)
        self.starting = True  # no segment of this epoch planned yet
        self.back_from = None  # fewer threads just probed: the way back is not judged
        self.warming = False  # the next record is a wake-up segment
        self.cut = False  # the last planned segment was cut short by the epoch's end
        # Whether the caller can time a segment's first samples apart inside
        # one run (``record``'s ``warm_s``): then a change of thread count runs
        # its wake-up part and the segment after it together, ``warm`` samples
        # of it the wake-up; else the wake-up part is a segment of its own.
        self.timed_inside = False
        # Whether the caller can stop a multi-thread run on a time limit
        # (``budget_s``, checked every MULTI_MAX_BATCHES mini-batches): then
        # such segments are planned by SEGMENT_S alone, not cut at that many.
        self.stoppable = False
        self.warm = 0
        self.wake = None  # (threads, n_samples, seconds) of the last wake-up segment
        self.seconds = dict.fromkeys(self.choices, 0.0)

    @property
    def adaptive(self):
        return len(self.choices) > 1

    def _other(self):
        return next(c for c in self.choices if c != self.current)

    def _batches(self, seconds, count, m, cap=None):
        est = self.per_sample[count]
        if est is None or est <= 0:
            return FIRST_BATCHES
        b = max(1, math.ceil(seconds / (est * m)))
        return b if cap is None else min(b, cap)

    def budget_s(self, threads, n_samples):
        """Seconds after which a run of ``n_samples`` on ``threads`` should stop
        (``STOP_FACTOR`` times its estimate), or None: one thread, no estimate,
        or one count to choose from (stopping could change nothing)."""
        est = self.per_sample.get(threads)
        if threads <= 1 or est is None or not self.adaptive:
            return None
        return STOP_FACTOR * est * n_samples

    def begin(self):
        """An epoch starts: the helper threads have been idle (see ``plan``)."""
        self.last = 1
        self.starting = True

    def plan(self, m, remaining):
        """``(threads, n_samples)`` for the next segment of ``remaining`` samples."""
        if not self.adaptive:
            return self.current, remaining
        grow = self.grow
        starting, self.starting = self.starting, False
        threads, want = self._plan(m, remaining, starting)
        n = min(remaining, want)
        self.cut = want > remaining  # cut short by the end of the epoch
        self.warm = 0
        if threads != self.last:
            # After a change of thread count the first milliseconds run slow:
            # helpers that were idle take a while to wake (on a virtual CPU,
            # 0.2-1.3 ms measured), and the weights must move to the caches
            # of the cores that now work on them. A probe's first third (a
            # segment's first mini-batch) trains but is not judged;
            # otherwise each probe read 15-25% slower than the same count
            # runs, and a quiet machine stayed on one thread.
            self.warming = True
            b = -(-n // m)
            w = min(n, m * max(1, b // 3 if threads != self.current else 1))
            if self.timed_inside and w < remaining:
                # One run for the wake-up part and the segment after it (the
                # size the next plan would give): a helper that finished the
                # wake-up part alone went back to sleep, and waking it again
                # cost 4-8% of a short epoch at m = 1000 on the Xeon.
                self.warm = w
                self.cut = w + want > remaining
                return threads, min(remaining, w + want)
            self.grow = grow
            return threads, w
        return threads, n

    def _plan(self, m, remaining, starting=True):
        if self.per_sample[self.current] is None:
            return self.current, FIRST_BATCHES * m
        other = self._other()
        if (self.per_sample[other] is None or self.wins[other]
                or self.clock - self.last_probe >= self.gap[other]):
            # (not between a probe's wake-up segment and the rest of it)
            if other > self.current and self.last != other and self._no_room(other):
                self.skipped += 1
                self.wins[other] = 0
                self.last_probe = self.clock  # look again after the gap
            else:
                if other > self.current and self.meter is not None:
                    # the meter found room: a longer probe, judged on more
                    # than the cost of waking the helper and handing it work
                    b = self._batches(PROBE_ROOM_S, other, m, PROBE_ROOM_MAX_BATCHES)
                    # nor shorter than the current count would take (up to
                    # PROBE_MAX_BATCHES): an estimate left by a slow spell
                    # (9-30 us per sample in the first milliseconds after an
                    # idle pause, against 1.5) sized probes of 1-4 mini-batches
                    # at m = 100, judged on the wake-up alone
                    b = max(b, self._batches(PROBE_ROOM_S, self.current, m, PROBE_MAX_BATCHES))
                else:
                    b = self._batches(PROBE_S, other, m, PROBE_MAX_BATCHES)
                # Not the cut-off tail of an epoch (a probe of one or two
                # mini-batches, half of them waking the helper, decides
                # nothing): the next epoch starts with it instead.
                if starting or self.last == other or remaining >= b * m:
                    return other, b * m
        target = self._batches(SEGMENT_S, self.current, m,
                               MULTI_MAX_BATCHES if self.current > 1 and not self.stoppable
                               else None)
        b = target
        if self.grow is not None:  # slow start after a switch
            b = min(target, 2 * self.grow)
            self.grow = b if b < target else None
        return self.current, b * m

    def _no_room(self, threads):
        """Whether the meter says other processes leave no room for ``threads``."""
        if self.meter is None:
            return False
        busy = self.meter.busy()
        if busy is not None:  # else (too soon to tell) the last verdict stands
            self.crowded = len(self.meter.cpus) - busy < threads - PROBE_ROOM_MARGIN
        return self.crowded

    def _switch(self, to, n_batches):
        old = self.current
        self.back_from = None
        if to < old:  # leaving more threads because they were slower: probe them less
            # (unless the meter sees the cores free: see the probes' back-off in record)
            if self.meter is None or self._no_room(old):
                self.gap[old] = min(2 * self.gap[old], PROBE_GAP_MAX_S)
        else:  # leaving fewer threads: probing them is cheap and safe
            self.gap[old] = PROBE_GAP_MIN_S
            # More threads won twice in a row: what kept them waiting is
            # over. Without this their wait only ever doubled, and on a quiet
            # but noisy machine, after a few switches down, two threads were
            # probed once every 2 s of training.
            self.gap[to] = PROBE_GAP_MIN_S
        self.wins[to] = 0
        self.slow = 0
        self.current = to
        self.switches += 1
        self.grow = n_batches

    def record(self, threads, n_samples, seconds, m=1, warm_s=None):
        """Record that ``n_samples`` (``m`` per mini-batch) took ``seconds`` on ``threads``.

        After a plan with ``warm`` set (``timed_inside``), ``warm_s`` is
        how long the segment's first ``warm`` samples took; without it the
        whole segment counts as the wake-up (not judged).
        """
        w, self.warm = self.warm, 0
        if not w:
            self._record(threads, n_samples, seconds, m)
        elif warm_s is None or not 0.0 <= warm_s <= seconds or n_samples <= w:
            self._record(threads, n_samples, seconds, m)  # the wake-up (self.warming)
        else:
            self._record(threads, w, warm_s, m)
            self._record(threads, n_samples - w, seconds - warm_s, m)

    def _record(self, threads, n_samples, seconds, m):
        self.clock += seconds
        self.seconds[threads] = self.seconds.get(threads, 0.0) + seconds
        self.last = threads
        wake, self.wake = self.wake, None
        if self.warming:  # the start of a segment after a change of count: not judged
            self.warming = False
            self.wake = (threads, n_samples, seconds)
            return
        if n_samples <= 0:
            return
        t = seconds / n_samples
        back = self.back_from
        self.back_from = None
        if back is not None and threads == self.current:
            # The first segment back on the current count after a probe of
            # fewer threads: the helpers slept through the probe, and on a
            # virtual CPU that has halted, the next few milliseconds can run
            # several times slower (6.5 us per sample against 1.6 at m = 100
            # on the Xeon, after a 4 ms probe of one thread). Judged, that
            # segment sent the governor to one thread, where it stayed; it
            # is the probe's cost, and counts in the probe's wait instead.
            est = self.per_sample[threads]
            if est is not None:
                excess = (t - est) * n_samples
                if wake is not None and wake[0] == threads:
                    excess += wake[2] - est * wake[1]
                self.gap[back] = min(max(self.gap[back], excess / PROBE_BUDGET),
                                     PROBE_GAP_MAX_S)
            return
        if self.cut and seconds < JUDGE_MIN_S and self.per_sample[threads] is not None:
            return  # an epoch's tail, too short to tell (JUDGE_MIN_S)
        self.per_sample[threads] = t
        if not self.adaptive:
            return
        if threads == self.current:
            # The current count got slower than the other's last probe: if
            # the other has fewer threads (the safe way), go, at once when it
            # lost clearly (a stall), else when the next segment is slow too:
            # on a noisy quiet machine one slow segment of two threads is
            # common, and leaving them doubled the wait before they were
            # probed again, for seconds of one-thread training.
            other = self._other()
            est = self.per_sample[other]
            if other < threads and est is not None and t > est * (1 + SWITCH_MARGIN):
                self.slow += 1
                if t > est * TIE_RATIO or self.slow >= SLOW_SEGMENTS:
                    self._switch(other, max(1, n_samples // m // 4))
            else:
                self.slow = 0
            return
        self.probes += 1
        self.tried[threads] += 1
        self.last_probe = self.clock
        if threads < self.current:
            self.back_from = threads  # (cleared below if the probe wins and switches)
        cur = self.per_sample[self.current]
        if cur is not None and t < cur * (1 - SWITCH_MARGIN):
            self.wins[threads] += 1
            self.lost[threads] = 0
            if threads < self.current or self.wins[threads] >= WINS_TO_GROW:
                self._switch(threads, max(1, n_samples // m))
        else:
            self.wins[threads] = 0
            self.lost[threads] += 1
            excess = (t - cur) * n_samples if cur is not None else 0.0
            if wake is not None and wake[0] == threads and cur is not None:
                # The probe's wake-up segment is part of what it cost: on a
                # machine with both cores busy, waking a helper can wait for
                # a scheduler slice (6-9 ms at m = 100, against 1-2 ms for the
                # probe's own loss), and probes that lost narrowly came back
                # every 10-50 ms of training (benchmarks/results/2026-11-28/
                # governor-busy-twelfth.txt).
                excess += wake[2] - cur * wake[1]
            # Doubling on near ties once left a quiet machine on one thread for
            # seconds after another library's threads had made a few probes lose.
            # Nor does a count's first probe double it: the first segment on
            # fresh helper threads, or right after another library's threads
            # ran, can be several times slower than the next.
            clear = cur is None or t > TIE_RATIO * cur
            # A probe of fewer threads than the current count backs off on a
            # narrow loss too: the current count is still watched against its
            # estimate by its own segments (above), which leave at once when
            # a load makes them slower, so these probes only refresh that
            # estimate. Probed every PROBE_BUDGET's worth of their loss (every
            # 17 ms of training at the chapter-1 network's narrow lead on a
            # quiet Xeon), with the helper's wake-up after each and the extra
            # segments, the default was 7-14% slower than two fixed threads;
            # 2-5% with this and WT kept across segments (benchmarks/results/
            # 2026-11-28/governor-quiet-sixteenth.txt).
            if threads < self.current:
                clear = True
            elif self.meter is not None and not self._no_room(threads):
                # More threads lost while the meter sees the cores free: not
                # a load (that stops these probes before they are made), or
                # not yet. Often the slow first milliseconds after an idle
                # spell, or another library's threads in this process still
                # spinning (probes of two threads at 4-9 us per sample against
                # 1.9 on one, then 1.5 in the next fit's probe): one such
                # probe, charged to the budget, left a quiet machine on one
                # thread for 0.2-0.5 s of training, 12-25 short fits in a row.
                # So the first loss in a row is checked by another probe soon;
                # from the second, the budget bounds what they cost (no
                # doubling: the meter, not the back-off, keeps them off a
                # busy machine).
                clear = False
                if self.lost[threads] == 1:
                    self.gap[threads] = PROBE_GAP_MIN_S
                    return
            backoff = 2 * self.gap[threads] if clear and self.tried[threads] > 1 else PROBE_GAP_MIN_S
            self.gap[threads] = min(max(backoff, excess / PROBE_BUDGET), PROBE_GAP_MAX_S)


def _cpu_reader():
    """A function giving the CPU the calling thread runs on, or None where unknown."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).sched_getcpu
    except (AttributeError, OSError, TypeError):  # not Linux (no sched_getcpu, or no CDLL(None))
        return None
    fn.restype = ctypes.c_int
    fn.argtypes = []
    if fn() < 0 or not hasattr(os, "sched_setaffinity"):
        return None
    return fn


_CURRENT_CPU = _cpu_reader()


_CYCLE_HZ = [0.0]  # the cycle counter's ticks per second, as learnt (0: not yet)


def note_cycle_rate(sync, seconds):
    """Learn the cycle counter's rate from a run's readings (``_kernels.STAMPS``)
    and its wall ``seconds``.

    The wall time includes the caller's own overhead, so each run's reading
    is at most the true rate: the highest is kept (runs of 1 ms or more).
    """
    entry, _, end = (int(sync[i]) for i in _kernels.STAMPS)
    if 0 < entry < end and seconds >= 1e-3:
        _CYCLE_HZ[0] = max(_CYCLE_HZ[0], (end - entry) / seconds)


def budget_cycles(seconds):
    """``seconds`` in the cycle counter's ticks (at least 1), or 0 while its rate is unknown."""
    if seconds is None or _CYCLE_HZ[0] <= 0:
        return 0
    return max(1, int(seconds * _CYCLE_HZ[0]))


def marked_seconds(sync, seconds):
    """Seconds of a run's marked part (``_kernels.MARK``) out of its ``seconds``.

    From the cycle counter's readings the kernel left in ``sync``
    (``_kernels.STAMPS``): the part's share of the time from the caller's
    entry into the kernel to its end, the rest of ``seconds`` (the caller's
    own overhead before the kernel, tens of microseconds) counted in the
    part. None where the readings cannot tell (no cycle counter).
    """
    entry, at_mark, end = (int(sync[i]) for i in _kernels.STAMPS)
    if not 0 < entry < at_mark <= end:
        return None
    return seconds * (1.0 - (end - at_mark) / (end - entry))


class _Placement:
    """Keeps a multi-thread run's threads on different CPUs while it runs.

    Why: after an idle spell (a pause between fits, a notebook's think time)
    the scheduler often puts a woken helper on its caller's CPU, and the two
    then take turns on one core for tens of milliseconds, at every barrier,
    before its balancing separates them: on a 2-core Intel Xeon the first
    epoch of 10,000 images at m = 1000 after a 0.3 s pause took 0.030 s on
    two threads against 0.014 s steady; with the threads kept apart, 0.016
    (``benchmarks/results/2026-11-28/placement-fourteenth.txt``). Moving
    the helper off the caller's CPU only when it starts gained nothing (the
    threads' scheduler statistics showed them moving during the run). So for the length of one run (one
    segment of the governor's, about 20 ms) the caller stays on its CPU and
    the helpers on the others; afterwards every thread may run anywhere
    again, so a core another process takes between runs is left to it. With
    one thread, where the process may use fewer CPUs than threads, or
    where affinity cannot be set, nothing is done.

    The caller moves its sleeping helpers (by their thread ids) before it
    wakes them, so each wakes on another CPU: moved by themselves once
    running, they first woke beside the caller, which had to give up its CPU
    (a futex sleep and wake) before they could run, 130 us per run of two
    threads on the Xeon (``benchmarks/results/2026-11-28/team-run-fifteenth.txt``).
    """

    def __init__(self, nthr, helper_ids):
        self.allowed = self.cpu = None
        self.helper_ids = helper_ids
        if _CURRENT_CPU is None:
            return
        try:
            allowed = os.sched_getaffinity(0)
            cpu = _CURRENT_CPU()
            if len(allowed) < nthr or cpu not in allowed:
                return
            os.sched_setaffinity(0, {cpu})
        except OSError:  # a container that forbids it: leave placement alone
            return
        self.allowed, self.cpu = allowed, cpu
        try:
            for tid in helper_ids:
                os.sched_setaffinity(tid, allowed - {cpu})
        except OSError:
            self.release()

    def release(self):
        if self.allowed is not None:
            allowed, self.allowed = self.allowed, None
            os.sched_setaffinity(0, allowed)
            for tid in self.helper_ids:
                try:
                    os.sched_setaffinity(tid, allowed)
                except OSError:  # a helper that has exited
                    pass


class Team:
    """Helper threads that run a kernel's other shares beside the caller's.

    ``run(fn, nthr, *args, mark=0, budget=0, piece=0)`` calls
    ``fn(*args, t, nthr, sync)`` for ``t = 1 .. nthr-1`` on helper threads
    and ``t = 0`` on the calling thread, with one fresh ``sync`` (int64,
    ``_kernels.SYNC_SLOTS`` long, zero but ``mark``, ``budget`` and ``piece``
    in the slots ``_kernels.MARK``, ``BUDGET`` and ``PIECE``) for the run, and returns that
    ``sync`` when all have: when ``sync[_kernels.DONE]`` counts every
    helper (nnvec's kernels add 1 from each helper when it is finished with
    their arguments, or from thread 0 for helpers that came too late to
    touch any: ``_kernels._join_late``), else when each helper's call has
    returned. The kernel must
    release the GIL (numba's ``nogil``) and make its threads meet by itself.
    ``Team(helpers)`` starts that many helpers at once (more are started
    when a run needs them); ``close()`` stops them.
    An idle helper sleeps: no spinning thread is left behind between
    segments, unlike an OpenMP pool. While a run on several threads lasts,
    the caller stays on its CPU and the helpers on the others
    (``_Placement``).
    """

    def __init__(self, helpers=0):
        self._pool: ThreadPoolExecutor | None = None
        self._size = 0
        self._ids: list[int] = []  # the helpers' thread ids
        self.pid = os.getpid()
        self._lock = threading.Lock()  # one run at a time per team
        if helpers:  # started now, so the first timed segment does not pay for it
            self._start(helpers)

    @property
    def helpers(self):
        """Helper threads started (0 before the first run on more than one thread)."""
        return self._size

    def _start(self, helpers):
        self.close()
        self.pid = os.getpid()
        pool = self._pool = ThreadPoolExecutor(helpers, thread_name_prefix="nnvec")
        self._size = helpers
        # one task per helper (each waits for all), to start them all and learn their ids
        met = threading.Barrier(helpers)

        def started():
            met.wait()
            return threading.get_native_id()

        self._ids = [f.result() for f in [pool.submit(started) for _ in range(helpers)]]
        return pool

    def run(self, fn, nthr, *args, mark=0, budget=0, piece=0):
        sync = np.zeros(_kernels.SYNC_SLOTS, np.int64)
        sync[_kernels.MARK] = mark
        sync[_kernels.BUDGET] = budget
        sync[_kernels.PIECE] = piece
        if nthr == 1:
            fn(*args, 0, 1, sync)
            return sync
        with self._lock:
            pool = self._pool
            if pool is None or self._size < nthr - 1:
                pool = self._start(nthr - 1)
            place = _Placement(nthr, self._ids)
            try:
                futures = [pool.submit(functools.partial(fn, *args, t, nthr, sync))
                           for t in range(1, nthr)]
                try:
                    fn(*args, 0, nthr, sync)
                finally:
                    # Done when the helpers say so (sync[DONE], nnvec's kernels),
                    # else when their futures are (any other fn, a slow helper).
                    if not _kernels.spin_until_done(sync, nthr - 1):
                        for f in futures:
                            f.result()
            finally:
                place.release()
        return sync

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
            self._size = 0
            self._ids = []
