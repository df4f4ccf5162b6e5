"""What every subcommand gets: the settings and a lazily built database session factory."""

from __future__ import annotations

from functools import cached_property

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from callcenter.config import Settings
from callcenter.db import make_engine, make_session_factory


class AppContext:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.sqlalchemy_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


pass_app = click.make_pass_decorator(AppContext)
