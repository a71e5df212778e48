"""`deepnotes compress`: the table and the JSON line."""
import json

import pytest

from deepnotes.cli import main


@pytest.mark.covers("P1", "P2")
def test_compress_command_prints_every_format(capsys):
    assert main(["compress", "--dataset", "digits", "--epochs", "2", "--hidden", "16", "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out.strip().splitlines()[-1])
    names = [f["format"] for f in report["formats"]]
    assert names[0] == "float32" and "int8 integer path" in names and "binary (BWN, STE)" in names
    sizes = {f["format"]: f["bytes"] for f in report["formats"]}
    assert sizes["binary (BWN, STE)"] < sizes["int8 PTQ per channel"] < sizes["float16"] < sizes["float32"]
    assert all(0 <= f["test_accuracy"] <= 100 for f in report["formats"])
    assert main(["compress", "--epochs", "0"]) == 2
