"""`python -m panel` runs the CLI."""

from panel.cli import main

main()
