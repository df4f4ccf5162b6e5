"""Subcommands; see COMMANDS."""

import click

COMMANDS: list[click.Command] = []
