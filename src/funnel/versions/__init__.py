"""Agreed rule sets: append-only versions, sign-off by marketing and sales, exports and diffs.

* :mod:`funnel.versions.record` — a version, its sign-offs and its status;
* :mod:`funnel.versions.history` — saving versions and reading the history back;
* :mod:`funnel.versions.signoff` — proposing a draft and signing it;
* :mod:`funnel.versions.files` — exporting a version as a file and importing one;
* :mod:`funnel.versions.diff` — what changed between two versions.
"""
