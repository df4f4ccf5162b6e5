"""placeholder module filled in below."""

COMMANDS: list = []
