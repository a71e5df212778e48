"""deepnotes.nn.init: weight initialization (to be filled)."""
