import sys

from nnvec import bench
from nnvec.mnist import load_mnist

(X, y), _, _ = load_mnist()
X, y = X[:10000], y[:10000]
sizes = eval(sys.argv[1])
m = int(sys.argv[2])
order = sys.argv[3].split(",")
peaks = {"float64": 69.0, "float32": 140.0}
res = bench._run(sizes, [m], order, 7, X, y, {"float64": X}, peaks)
for r in res["records"]:
    print(f"{r['variant']:15s} {r['median_s']:.4f}  " + " ".join(f"{s:.3f}" for s in r["seconds"]))
