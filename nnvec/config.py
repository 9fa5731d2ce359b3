"""nnvec's tunables, in one place.

Every number here was chosen by measurement (``nnvec bench`` and its
``--busy`` and ``--strategies`` modes); the comments say what each trades.
Nothing here changes results: only how fast they come (the fused kernel gives
the same bits for any thread count and segmentation).

The fused kernel's own constants (``CHUNK``, ``UPDATE_CHUNK``,
``UPDATE_NEURONS``, ``UPDATE_PANEL_MIN_M``, ``UPDATE_PANEL_MIN_IN``,
``UPDATE_PREFETCH``, ``FORWARD_K_BYTES``, ``SPLIT_MIN_WEIGHTS``,
``FORWARD_ALIGN``, ``UPDATE_ALIGN``, ``SPLIT_MIN_EXAMPLES``, ``EXAMPLE_ALIGN``,
``FORWARD_BLOCK``, ``SPARSE_ROW_BYTES``, ``SPARSE_PREFETCH`` and the numba
flags ``FASTMATH``) are re-exported here but defined in
``nnvec/_kernels.py``: numba compiles a global's value into the
kernel and keys its on-disk cache on the kernel module's source file only,
so a constant edited in another file would leave a stale compiled kernel in
the cache. Edit them there.
"""

from ._kernels import (
    CHUNK,
    EXAMPLE_ALIGN,
    FASTMATH,
    FORWARD_ALIGN,
    FORWARD_BLOCK,
    FORWARD_K_BYTES,
    SPARSE_PREFETCH,
    SPARSE_ROW_BYTES,
    SPLIT_MIN_EXAMPLES,
    SPLIT_MIN_WEIGHTS,
    UPDATE_ALIGN,
    UPDATE_CHUNK,
    UPDATE_NEURONS,
    UPDATE_PANEL_MIN_IN,
    UPDATE_PANEL_MIN_M,
    UPDATE_PREFETCH,
)

__all__ = ["CHUNK", "UPDATE_CHUNK", "UPDATE_NEURONS", "UPDATE_PANEL_MIN_M",
           "UPDATE_PANEL_MIN_IN", "UPDATE_PREFETCH",
           "FASTMATH", "FORWARD_ALIGN",
           "FORWARD_BLOCK", "FORWARD_K_BYTES", "UPDATE_ALIGN",
           "SPLIT_MIN_WEIGHTS", "SPLIT_MIN_EXAMPLES", "SPARSE_ROW_BYTES",
           "SPARSE_PREFETCH", "EXAMPLE_ALIGN",
           "AUTO_BATCHED_MIN_M", "AUTO_BATCHED_MIN_WEIGHTS",
           "AUTO_BATCHED_LARGE_M", "AUTO_BATCHED_LARGE_WEIGHTS", "WIDE_MIN_WEIGHTS",
           "SETTLE_S", "SEGMENT_S", "MULTI_MAX_BATCHES", "STOP_FACTOR", "PROBE_S",
           "PROBE_MAX_BATCHES", "PROBE_ROOM_MARGIN",
           "PROBE_ROOM_S", "PROBE_ROOM_MAX_BATCHES", "PROBE_GAP_MIN_S", "PROBE_GAP_MAX_S", "PROBE_BUDGET",
           "TIE_RATIO", "SWITCH_MARGIN", "SLOW_SEGMENTS", "WINS_TO_GROW", "FIRST_BATCHES",
           "JUDGE_MIN_S"]

# ------------------------------------------------------------------ engine
#: ``strategy="auto"`` runs the batched strategy for mini-batches of at least
#: AUTO_BATCHED_MIN_M examples through hidden-to-hidden layers of at least
#: AUTO_BATCHED_MIN_WEIGHTS weights in all, and for mini-batches of at least
#: AUTO_BATCHED_LARGE_M through networks of at least AUTO_BATCHED_LARGE_WEIGHTS
#: weights in all (engine.auto_strategy; the crossovers measured epoch against
#: epoch, benchmarks/results/2026-11-28/auto-crossover-eleventh.txt: since the
#: kernel's update panels the fused kernel wins at m = 100 at every shape of
#: ``nnvec bench --grid``, BLAS from about m = 150-200 through a 500 x 300
#: layer and from m = 300-500 through a 784 x 1000 one)
AUTO_BATCHED_MIN_M = 150
AUTO_BATCHED_MIN_WEIGHTS = 65_536
AUTO_BATCHED_LARGE_M = 300
AUTO_BATCHED_LARGE_WEIGHTS = 100_000
#: on a CPU with AVX-512, a network with a dense layer of at least this many
#: weights trains and predicts in the fused kernels' 512-bit twins
#: (engine._fused_kernels): [784, 30, 10] does (its first layer has 23,520),
#: the chapter-1 network on SparseImages does not (its one dense layer has
#: 300). Small layers gain nothing from 512-bit vectors, and the CPU's lower
#: clock while it runs them cost the chapter-1 epoch 5-16%
#: (benchmarks/results/2026-11-28/ab-512-bit-thirteenth.txt)
WIDE_MIN_WEIGHTS = 8192

# --------------------------------------------- thread governor (_threads)
#: seconds a normal segment aims to last at the current count's speed
SEGMENT_S = 0.02
#: ... and a sudden load goes unnoticed for at most this many mini-batches
#: on more than one thread: when another process takes a core, a thread
#: waiting at a barrier sleeps until its partner gets a core back, so every
#: mini-batch can cost a wake-up or a scheduler slice. Where the kernel can
#: time itself (a cycle counter, and its rate learnt from earlier runs), a
#: multi-thread segment looks at the time every this many mini-batches and
#: stops there once it has run STOP_FACTOR times as long as planned
#: (``_kernels.BUDGET``); elsewhere such a segment has at most this many.
#: Each segment hands the helpers their work and wakes them (0.2-0.45 ms on
#: the Xeon); capped, at m = 1 on [784, 30, 10] the default took 1.07-1.14x
#: two fixed threads' time, 1.00-1.02x ended by time (2-vCPU Xeon; README).
MULTI_MAX_BATCHES = 512
#: see MULTI_MAX_BATCHES
STOP_FACTOR = 2.0
#: seconds a probe segment aims to last at the probed count's last speed ...
PROBE_S = 0.004
#: ... but never more mini-batches than this: when threads stall at barriers,
#: the cost is per mini-batch (a wake-up or a scheduler slice each), not per
#: sample. Probes this long (not 1 ms) so that waking a helper thread does not
#: decide them.
PROBE_MAX_BATCHES = 128
#: seconds of training between probes of a count: doubles while it loses clearly
PROBE_GAP_MIN_S = 0.01
PROBE_GAP_MAX_S = 2.0
#: a losing probe's extra seconds are kept below this fraction of training
#: time: a probe that cost 15 ms more than the current count (one collapsed
#: barrier on a busy machine) waits at least 0.5 s before the next
PROBE_BUDGET = 0.03
#: a probe that loses by less than this factor is a near tie (or a pool woken
#: from sleep, which makes a short probe look slow): the next one waits only
#: as long as PROBE_BUDGET asks, so a count that has become faster again is
#: found within an epoch. A clearer loss (a stalled barrier, or one thread
#: against two on a quiet machine) doubles the gap.
TIE_RATIO = 1.5
#: a count must be this much faster (fraction) to take over
SWITCH_MARGIN = 0.05
#: segments in a row the current count must be slower than the other's last
#: probe (by SWITCH_MARGIN, but less than TIE_RATIO: by more, it leaves at once)
#: before it leaves for fewer threads
SLOW_SEGMENTS = 2
#: winning probes in a row needed to move to *more* threads. Moving to fewer
#: is safe (at worst the speed of one core); moving to more is the risky way
#: (a lucky probe on a busy machine can hide a 50x stall), so it needs more
#: evidence.
WINS_TO_GROW = 2
#: a probe of n threads is made only while other processes leave at least
#: n - PROBE_ROOM_MARGIN of the process's cores free (idle time in /proc/stat,
#: _threads.LoadMeter): on 2 cores, half a core's worth of load from others
#: means no probe of two threads, while a background process's few per cent
#: do not
PROBE_ROOM_MARGIN = 0.5
#: a probe of more threads made with the meter's room lasts this long and at
#: most this many mini-batches: 4 ms and 128 mini-batches (PROBE_S,
#: PROBE_MAX_BATCHES, kept where there is no meter) are sized for a busy
#: machine, where they bound a stall; on a quiet one they were judged on the
#: helper's wake-up and the 0.1-0.5 ms of handing it each segment's work
#: (2 threads read 2.9 us per sample in such probes at m = 10 against 2.4 in
#: whole epochs, one thread 2.6)
PROBE_ROOM_S = 0.012
PROBE_ROOM_MAX_BATCHES = 512
#: mini-batches in the very first segment, before anything is measured
FIRST_BATCHES = 4
#: a segment cut short by the end of an epoch and shorter than this (seconds)
#: is not judged once its count has an estimate: a tail of a few mini-batches
#: (or a short fit's) is mostly the fixed cost of handing the helpers their
#: work and waking them (0.04-0.3 ms on the Xeon), and such tails, judged,
#: sent the governor to one thread (a 3-mini-batch tail at m = 100 read 3.1
#: us per sample against 1.5 in the segment before it)
JUDGE_MIN_S = 0.002

# ------------------------------------------------------------------- bench
#: seconds to pause before each timed epoch. OpenBLAS's idle threads keep
#: spinning for a while after a BLAS-heavy variant (numpy, batched); an epoch
#: of the fused kernel that starts meanwhile shares its cores with them and
#: runs up to 2x slower. The pause lets them park, so each variant is timed
#: in its own steady state, whatever ran before it.
SETTLE_S = 0.3
