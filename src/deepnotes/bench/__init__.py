"""`deepnotes bench`: reference workloads timed in deepnotes and PyTorch in the same run.

See `runner.py` for the method (interleaved repeats, idle-machine checks, one
subprocess per framework and workload for peak memory) and `workloads.py` for
the models.
"""
