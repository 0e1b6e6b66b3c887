"""`python -m kundskab` runs the command line."""

from kundskab.edges.cli import main

main()
