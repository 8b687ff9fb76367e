"""``python -m funnel``: the ``funnel`` command."""

from funnel.cli import main

raise SystemExit(main())
