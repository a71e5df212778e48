"""`deepnotes.backends`, as `torch.backends`: no accelerator backend is available.

`backends.mps.is_available()` and `backends.cuda.is_built()` are False; `backends.cudnn.benchmark`
and `.deterministic` can be set (scripts set them for reproducibility) and change nothing, since
NumPy on the CPU is deterministic already.
"""
from types import SimpleNamespace


def _false(*args, **kwargs) -> bool:
    return False


mps = SimpleNamespace(is_available=_false, is_built=_false)
cuda = SimpleNamespace(is_built=_false, matmul=SimpleNamespace(allow_tf32=False))
cudnn = SimpleNamespace(is_available=_false, enabled=False, benchmark=False, deterministic=False, allow_tf32=False)
mkldnn = SimpleNamespace(is_available=_false)
