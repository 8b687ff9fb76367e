"""``python -m funnel.cli``: the ``funnel`` command."""

from funnel.cli import main

raise SystemExit(main())
