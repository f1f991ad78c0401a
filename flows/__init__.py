"""Prefect flows, wiring only. Importing them means a flow is about to run, so Prefect's home
is made here (`pipeline.env`), not by every command."""

from pipeline.env import ensure_prefect_home

ensure_prefect_home()
