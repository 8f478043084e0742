"""The rich consoles every command prints with (stdout for results, stderr for progress and errors)."""

from rich.console import Console

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
