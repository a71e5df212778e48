"""deepnotes.nn.utils: helpers around models (gradient clipping, parameter counts, conv arithmetic,
regularization penalties).  Each family lives in its own module and appends its exports here."""
