"""`python -m listening.cli`."""

from listening.cli import main

main()
