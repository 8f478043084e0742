"""The rich consoles every command prints with (stdout for results, stderr for progress and errors)."""

from typing import Any

from rich.console import Console


class _Console(Console):
    """Sized when it prints, not when it is imported: rich freezes the width of `$COLUMNS` at
    construction, so a command run in-process (typer's CliRunner with its own COLUMNS, the REPL) would
    print at the width of whatever environment first imported this module (tables cut to `…`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if "width" not in kwargs:
            self._width = None  # rich's `size` reads the terminal, then $COLUMNS, on every print
        if "height" not in kwargs:
            self._height = None


out = _Console(highlight=False)
err = _Console(stderr=True, highlight=False)
