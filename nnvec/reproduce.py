"""nnvec reproduce (filled in by the reproduction issue)."""

def add_parser(sub):
    pass
