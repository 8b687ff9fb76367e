"""Benchmarks: funnel's implementation against a plain-pandas baseline of the same work.

Run ``make bench`` (1M rows) or ``python -m bench --rows 20000 --repeat 2`` for a smoke run.
Cases live in ``bench/cases_*.py`` modules, which register themselves with
:func:`bench.harness.case`; see the harness docstring for how to add one.
"""
