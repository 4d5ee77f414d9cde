"""Ledger settings (prefix ``MICROCRED_LEDGER_``): log name, checkpoint cadence, anchoring."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LedgerSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MICROCRED_LEDGER_", env_file=".env", extra="ignore"
    )

    origin: str | None = Field(
        default=None,
        description="The log's name (checkpoint origin and key name); defaults to <host>/ledger.",
    )
    checkpoint_interval_seconds: int = Field(default=300, ge=1)
    checkpoint_in_server: bool = Field(
        default=True,
        description="The web server signs a checkpoint when the log has grown and the last one is "
        "checkpoint_interval_seconds old; false where `microcred ledger checkpoint --every` runs.",
    )
    anchoring_enabled: bool = False
    anchor_rpc_url: str | None = Field(default=None, description="Ethereum JSON-RPC endpoint")
    anchor_private_key: str | None = Field(default=None, description="Hex key paying for anchors")
    anchor_confirmations: int = Field(default=1, ge=1)

    def origin_for(self, base_url: str) -> str:
        if self.origin:
            return self.origin
        host = urlsplit(base_url).netloc or "localhost"
        return f"{host}/ledger"


def get_ledger_settings() -> LedgerSettings:
    return LedgerSettings()
