"""funnel: where marketing and sales agree, with data, on what a hot lead is.

The library never imports Streamlit: the app in ``app/`` and ``pages/`` and the ``funnel`` CLI
both call these modules.
"""

from __future__ import annotations

__version__ = "0.1.0"
