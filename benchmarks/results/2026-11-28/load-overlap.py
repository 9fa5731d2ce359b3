"""Tried in the sixteenth session, not kept: inflating and encoding MNIST's image
files (numpy's encoder) in a thread while the main thread imports nnvec and
sets numba up (its first kernel call).

    python benchmarks/results/2026-11-28/load-overlap.py seq|par|parsw [PIECE_BYTES]

seq: one after the other; par: side by side; parsw: side by side with the
interpreter switching threads every 0.1 ms. Prints each side's seconds, the
total and the peak resident memory (MB). Run from the repository root.
"""
import sys, time, threading, zlib
T0 = time.perf_counter()
import numpy as np
PIECE = int(sys.argv[2]) if len(sys.argv) > 2 else 2**21
mode = sys.argv[1]
res = {}
def bg():
    t = time.perf_counter()
    from nnvec import _numpy_kernels as nk
    parts = []
    for f, hs in (('train-images-idx3-ubyte.gz', 16), ('t10k-images-idx3-ubyte.gz', 16)):
        raw = open('data/mnist/' + f, 'rb').read()
        d = zlib.decompressobj(31)
        hdr = d.decompress(raw, hs)
        while True:
            buf = d.decompress(d.unconsumed_tail, PIECE // 784 * 784)
            if not buf: break
            p = np.frombuffer(buf, np.uint8).reshape(-1, 784); n = len(p)
            room = np.count_nonzero(p) + n * 4
            ip = np.empty(n + 1, np.int64); st = np.empty(room, np.uint8); v = np.empty(room, np.uint8)
            e = nk.encode_nonzero_into(p, ip, st, v)
            parts.append((ip, st[:e].copy(), v[:e].copy()))
    res['bg'] = time.perf_counter() - t
if mode.startswith('par'):
    if mode == 'parsw': sys.setswitchinterval(1e-4)
    th = threading.Thread(target=bg); th.start()
t = time.perf_counter()
import nnvec
from nnvec._kernels import encode_nonzero_into
a=np.zeros((2,784),np.uint8); ip=np.empty(3,np.int64); s=np.empty(2000,np.uint8); v=np.empty(2000,np.uint8)
encode_nonzero_into(a,ip,s,v)
res['main'] = time.perf_counter() - t
if mode.startswith('par'): th.join()
else: bg()
import resource
print(mode, PIECE, {k: round(v, 3) for k, v in res.items()}, 'total', round(time.perf_counter() - T0, 3), 'peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
