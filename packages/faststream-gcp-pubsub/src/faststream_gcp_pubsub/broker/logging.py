"""FastStream's default access log, with the subscription as its channel column."""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from faststream._internal.logger import DefaultLoggerStorage, make_logger_state
from faststream._internal.logger.logging import get_broker_logger

if TYPE_CHECKING:
    from faststream._internal.basic_types import LoggerProto
    from faststream._internal.context import ContextRepo

MESSAGE_ID_WIDTH = 16


class PubSubParamsStorage(DefaultLoggerStorage):
    def __init__(self) -> None:
        super().__init__()
        self._subscription_width = len("subscription")
        self.logger_log_level = logging.INFO

    def set_level(self, level: int) -> None:
        self.logger_log_level = level

    def register_subscriber(self, params: dict[str, Any]) -> None:
        self._subscription_width = max(
            self._subscription_width, len(params.get("subscription", ""))
        )

    def get_logger(self, *, context: ContextRepo) -> LoggerProto:
        logger = self._get_logger_ref()
        if logger is None:
            logger = get_broker_logger(
                name="pubsub",
                default_context={"subscription": ""},
                message_id_ln=MESSAGE_ID_WIDTH,
                fmt=(
                    "%(asctime)s %(levelname)-8s - "
                    f"%(subscription)-{self._subscription_width}s | "
                    f"%(message_id)-{MESSAGE_ID_WIDTH}s - %(message)s"
                ),
                context=context,
                log_level=self.logger_log_level,
            )
            self._logger_ref.add(logger)
        return logger


make_pubsub_logger_state = partial(make_logger_state, default_storage_cls=PubSubParamsStorage)
