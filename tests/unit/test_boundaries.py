"""The library never imports Streamlit: the app and the CLI share it."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_library_does_not_import_streamlit() -> None:
    code = (
        "import sys, funnel, funnel.cli, funnel.ingest, funnel.store, funnel.mapping.propose, "
        "funnel.validation, funnel.readers, funnel.demo, funnel.i18n; "
        "print('streamlit' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
