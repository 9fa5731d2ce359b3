"""nnvec bench (filled in by the benchmark issue)."""

def add_parser(sub):
    pass
