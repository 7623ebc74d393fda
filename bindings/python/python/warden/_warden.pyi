from os import PathLike
from collections.abc import Awaitable
from typing import Any, Final, Literal, Mapping, final

Json = None | bool | int | float | str | list["Json"] | tuple["Json", ...] | set[str] | frozenset[str] | dict[str, "Json"]

class WardenError(Exception):
    """Base class of every error the module raises."""

class PolicyError(WardenError):
    """A policy that does not load."""

    file: str
    diagnostics: list[Diagnostic]

class RequestError(WardenError):
    """A request the engine cannot read."""

class ConfigError(WardenError):
    """An engine option that cannot be honoured."""

@final
class Diagnostic:
    file: Final[str]
    line: Final[int]
    column: Final[int]
    end_line: Final[int]
    end_column: Final[int]
    severity: Final[Literal["error", "warning"]]
    code: Final[str]
    message: Final[str]
    help: Final[str | None]

@final
class Decision:
    allowed: Final[bool]
    status: Final[int]
    reason: Final[str | None]
    rule: Final[str | None]
    trace: Final[dict[str, Any] | None]
    @property
    def rules(self) -> tuple[str, ...]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __bool__(self) -> bool: ...

@final
class HttpDecision:
    allowed: Final[bool]
    status: Final[int]
    reason: Final[str | None]
    location: Final[str | None]
    note: Final[str | None]
    trace: Final[dict[str, Any] | None]
    @property
    def rules(self) -> tuple[str, ...]: ...
    @property
    def headers(self) -> dict[str, str]: ...
    @property
    def remove(self) -> tuple[str, ...]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __bool__(self) -> bool: ...

OnStoreError = Literal["fail_closed", "fail_open", "fallback"]

@final
class Engine:
    @staticmethod
    def from_file(
        path: str | PathLike[str],
        *,
        env: str | None = None,
        secrets: Mapping[str, str] | None = None,
        config: Mapping[str, str] | None = None,
        redis_url: str | None = None,
        on_store_error: OnStoreError | None = None,
        cache_size: int | None = None,
    ) -> Engine: ...
    @staticmethod
    def from_source(
        name: str,
        text: str,
        *,
        env: str | None = None,
        secrets: Mapping[str, str] | None = None,
        config: Mapping[str, str] | None = None,
        redis_url: str | None = None,
        on_store_error: OnStoreError | None = None,
        cache_size: int | None = None,
    ) -> Engine: ...
    def authorize(
        self,
        *,
        action: str,
        principal: Mapping[str, Json] | None = None,
        resource: Mapping[str, Json] | None = None,
        context: Mapping[str, Json] | None = None,
        explain: bool = False,
    ) -> Decision: ...
    def check_http(
        self,
        *,
        method: str,
        path: str,
        headers: Mapping[str, str | list[str]] | None = None,
        ip: str | None = None,
        principal: Mapping[str, Json] | None = None,
        input: Mapping[str, Json] | None = None,
        time: str | None = None,
        body: bytes | str | None = None,
        explain: bool = False,
    ) -> HttpDecision: ...
    def check_http_async(
        self,
        *,
        method: str,
        path: str,
        headers: Mapping[str, str | list[str]] | None = None,
        ip: str | None = None,
        principal: Mapping[str, Json] | None = None,
        input: Mapping[str, Json] | None = None,
        time: str | None = None,
        body: bytes | str | None = None,
    ) -> Awaitable[HttpDecision]: ...
    def needs_body(self, method: str, path: str) -> bool: ...
    def enforce_set_cookie(self, value: str) -> str: ...
    @property
    def has_cookie_rules(self) -> bool: ...
    def reload(self, path: str | PathLike[str] | None = None, *, source: str | None = None) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def warnings(self) -> list[Diagnostic]: ...
    @property
    def reads(self) -> dict[str, list[str]]: ...
