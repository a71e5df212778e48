"""`deepnotes.utils`, laid out as `torch.utils`, so `torch.utils.data.DataLoader` keeps working after
`import deepnotes as torch`.  The classes live in `deepnotes.data`; these are the same objects."""
from . import data  # noqa: F401
