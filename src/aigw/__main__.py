"""``python -m aigw``: the same as the ``aigw`` command."""

from aigw.cli import main

main(prog_name="aigw")
