"""Runs a reference adapter from clients/ after the caller has patched its SDK."""

import os
import runpy
import sys

CLIENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "clients")


def run(adapter):
    sys.path.insert(0, CLIENTS)
    runpy.run_path(os.path.join(CLIENTS, adapter), run_name="__main__")
