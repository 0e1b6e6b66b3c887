"""`python -m kundskab` runs the command line."""

from kundskab.cli import main

main()
