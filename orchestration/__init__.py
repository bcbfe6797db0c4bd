"""Dagster definitions that sync many accounts of both APIs, one partition per account.

Dagster decides what runs when and where; each partition's run is one ``meltano run`` of the
account's tap into PostgreSQL (``orchestration.meltano``). Accounts are listed in a YAML
file (``orchestration.accounts``), not in code.
"""
