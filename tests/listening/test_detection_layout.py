"""The spike detector is a package by concern (issue #15: no module over 600 lines), and the names
the interface, the alerts, the command and the benches use are still read from the package."""

from pathlib import Path

from palabre.listening import detection

PACKAGE = Path(detection.__file__).parent


def test_the_detector_is_a_package_of_small_modules():
    assert PACKAGE.name == "detection" and (PACKAGE / "__init__.py").is_file()
    long = {
        path.name: lines
        for path in PACKAGE.glob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}
    assert {path.stem for path in PACKAGE.glob("*.py")} >= {
        "baseline",
        "streaming",
        "batch",
        "nature",
        "terms",
    }


def test_the_package_still_offers_every_name_its_callers_read():
    for name in detection.__all__:
        assert getattr(detection, name) is not None, name
    assert detection.StreamingDetector.__module__ == "palabre.listening.detection.streaming"
    assert detection.spike_nature.__module__ == "palabre.listening.detection.nature"
