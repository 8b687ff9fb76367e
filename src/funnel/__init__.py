"""funnel: where marketing and sales agree, with data, on what a hot lead is.

The library never imports Streamlit: the app in ``app/`` and ``pages/`` and the ``funnel`` CLI
both call these modules.
"""

from __future__ import annotations

import warnings

__version__ = "0.1.0"

# pandera imports pyspark.pandas whenever pyspark is installed (the SQL engine tests install
# it); its pandas-version warning says nothing about funnel and must not reach users.
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)
