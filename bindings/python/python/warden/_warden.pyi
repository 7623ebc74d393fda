from datetime import datetime
from os import PathLike
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Final, Literal, Mapping, Sequence, TypedDict, final

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

Time = datetime | str
"""An aware `datetime` or an RFC 3339 string with a UTC offset (`Z` or `+HH:MM`)."""

@final
class Diagnostic:
    """One problem of a policy, with its position (1-based line and column)."""

    file: Final[str]
    line: Final[int]
    column: Final[int]
    end_line: Final[int]
    end_column: Final[int]
    severity: Final[Literal["error", "warning"]]
    code: Final[str]
    message: Final[str]
    help: Final[str | None]
    def __str__(self) -> str:
        """`file:line:column: severity: message`."""

@final
class Decision:
    """The answer to `Engine.authorize`. True when allowed."""

    allowed: Final[bool]
    status: Final[int]
    reason: Final[str | None]
    rule: Final[str | None]
    trace: Final[dict[str, Any] | None]
    @property
    def rules(self) -> tuple[str, ...]: ...
    def to_dict(self) -> dict[str, Any]:
        """The decision as a dict: `allowed`, `status`, `reason`, `rules`."""
    def __bool__(self) -> bool: ...
    def __str__(self) -> str:
        """`allowed (file:line)` or `denied: REASON (file:line)`."""

@final
class HttpDecision:
    """The answer to `Engine.check_http`: 200 allowed, 204 a preflight answer, 3xx a
    redirect, 4xx/5xx a refusal. True when allowed."""

    allowed: Final[bool]
    status: Final[int]
    reason: Final[str | None]
    location: Final[str | None]
    note: Final[str | None]
    authenticated_by: Final[str | None]
    trace: Final[dict[str, Any] | None]
    @property
    def principal(self) -> dict[str, Any] | None:
        """The principal the policy's `auth` blocks verified (admitted requests)."""
    @property
    def rules(self) -> tuple[str, ...]:
        """The deciding requirements or limits as `file:line`."""
    @property
    def headers(self) -> dict[str, str]:
        """Headers to add to the response (lower-case names; they replace the app's own)."""
    @property
    def remove(self) -> tuple[str, ...]:
        """Headers to remove from the response, even when the application set them."""
    def to_dict(self) -> dict[str, Any]:
        """The decision as a dict, with `route`, `remove`, `authenticated_by` and `note`."""
    def __bool__(self) -> bool: ...
    def __str__(self) -> str:
        """`200 allowed`, `302 redirect to LOCATION` or `401 refused: REASON`."""

@final
class Authentication:
    """What `Engine.authenticate` found: a `principal` (and `via`, the `auth` block
    and key label that verified it), or an `error` code for refused credentials, or
    neither for an anonymous request. True when a principal was found."""

    principal: Final[dict[str, Any] | None]
    via: Final[str | None]
    error: Final[Literal["missing_token", "token_expired", "invalid_token", "invalid_api_key"] | None]
    def __bool__(self) -> bool: ...

OnStoreError = Literal["fail_closed", "fail_open", "fallback"]

DecisionLog = Callable[[str], object] | str | PathLike[str]
"""Where decision log lines go: a callable taking each JSON line (a `str`, called on
the log's writer thread), or a file the lines are appended to."""

class Metrics(TypedDict):
    """`Engine.metrics()`: the counters at one moment."""

    decisions: dict[str, int]
    """Decisions by `"kind/outcome"`: `authorize/allow`, `http/deny`, ..."""
    by_status: dict[int, int]
    by_route: dict[str, int]
    by_rule: dict[str, int]
    by_limit: dict[str, int]
    store_errors: int
    reloads: int
    reload_failures: int
    log_dropped: int
    latency_buckets: list[int]
    latency_sum_ns: int

@final
class Watch:
    """A running watch of an engine's policy file (`Engine.watch()`); a context
    manager. `close()` stops it, and so does collecting it: keep it while it should
    run."""

    def close(self) -> None:
        """Stop watching; no reload happens after this returns."""
    @property
    def closed(self) -> bool:
        """Whether `close()` was called."""
    def __enter__(self) -> Watch: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool: ...

@final
class Engine:
    """A loaded policy answering `authorize`, `check_http` and `authenticate`;
    `reload` swaps in a new policy atomically."""

    @staticmethod
    def from_file(
        path: str | PathLike[str],
        *,
        env: str | None = None,
        secrets: Mapping[str, str] | None = None,
        config: Mapping[str, str] | None = None,
        redis_url: str | None = None,
        redis_cluster: Sequence[str] | None = None,
        redis_ca_file: str | PathLike[str] | None = None,
        on_store_error: OnStoreError | None = None,
        cache_size: int | None = None,
        decision_log: DecisionLog | None = None,
        decision_log_sample_rate: float | None = None,
        metrics: bool = False,
    ) -> Engine:
        """Load and check a policy file; `PolicyError` lists its problems.

        Rate limits count in this process unless a shared store is given:
        `redis_url` (`redis://` or `rediss://`, TLS verified against the system's
        roots or only the PEM CA bundle `redis_ca_file`) or `redis_cluster` (seed
        node URLs of a Redis Cluster; one live seed is enough).

        `decision_log` receives one JSON line per decision (a callable, or a file
        path), sampled by `decision_log_sample_rate` (denials always kept); it
        never carries a credential. `metrics=True` counts decisions and reloads
        for `metrics()` and `prometheus()`."""
    @staticmethod
    def from_source(
        name: str,
        text: str,
        *,
        env: str | None = None,
        secrets: Mapping[str, str] | None = None,
        config: Mapping[str, str] | None = None,
        redis_url: str | None = None,
        redis_cluster: Sequence[str] | None = None,
        redis_ca_file: str | PathLike[str] | None = None,
        on_store_error: OnStoreError | None = None,
        cache_size: int | None = None,
        decision_log: DecisionLog | None = None,
        decision_log_sample_rate: float | None = None,
        metrics: bool = False,
    ) -> Engine:
        """Load and check policy text named `name` (as decisions cite it); the
        options are those of `from_file`."""
    def authorize(
        self,
        *,
        action: str,
        principal: Mapping[str, Json] | None = None,
        resource: Mapping[str, Json] | None = None,
        context: Mapping[str, Json] | None = None,
        explain: bool = False,
    ) -> Decision:
        """May `principal` do `action` on `resource`? `explain=True` adds a `trace`."""
    def check_http(
        self,
        *,
        method: str,
        path: str,
        headers: Mapping[str, str | list[str]] | None = None,
        ip: str | None = None,
        principal: Mapping[str, Json] | None = None,
        input: Mapping[str, Json] | None = None,
        time: Time | None = None,
        body: bytes | str | None = None,
        explain: bool = False,
    ) -> HttpDecision:
        """Decide an HTTP request: route, CORS, rate limits, authentication,
        requirements, response headers. `time` is an aware `datetime` or RFC 3339
        text; a naive one raises `RequestError`."""
    def check_http_async(
        self,
        *,
        method: str,
        path: str,
        headers: Mapping[str, str | list[str]] | None = None,
        ip: str | None = None,
        principal: Mapping[str, Json] | None = None,
        input: Mapping[str, Json] | None = None,
        time: Time | None = None,
        body: bytes | str | None = None,
    ) -> Awaitable[HttpDecision]:
        """`check_http` as an awaitable: a Redis rate-limit store is asked without
        blocking the event loop."""
    def authenticate(
        self,
        *,
        headers: Mapping[str, str | list[str]] | None = None,
        method: str | None = None,
        path: str | None = None,
        ip: str | None = None,
        time: Time | None = None,
    ) -> Authentication:
        """Authenticate a request with the policy's `auth` blocks only: the principal
        `check_http` would use."""
    def needs_body(self, method: str, path: str) -> bool:
        """Whether the route verifies a signature over the body (read it only then)."""
    def enforce_set_cookie(self, value: str) -> str:
        """One `Set-Cookie` value with the policy's `cookies` rule for it applied."""
    @property
    def has_cookie_rules(self) -> bool:
        """Whether the policy has a `cookies` block."""
    def reload(self, path: str | PathLike[str] | None = None, *, source: str | None = None) -> None:
        """Swap in a new policy; on error the old one stays and `PolicyError` is raised."""
    def watch(
        self,
        *,
        debounce: float = 0.1,
        on_reload: Callable[[], object] | None = None,
        on_error: Callable[[PolicyError], object] | None = None,
    ) -> Watch:
        """Reload the policy file whenever it changes, until the `Watch` is closed.
        A file that does not load leaves the old policy serving; `on_error` gets the
        `PolicyError` (else it is logged on the `warden` logger). Callbacks run on
        the watcher's thread."""
    def metrics(self) -> Metrics:
        """The counters now (the engine was loaded with `metrics=True`, else
        `ConfigError`)."""
    def prometheus(self) -> str:
        """The counters in the Prometheus text exposition format."""
    def flush_decision_log(self) -> None:
        """Wait until every decision logged so far has reached the `decision_log`."""
    @property
    def name(self) -> str:
        """The policy's file name, as decisions cite it."""
    @property
    def warnings(self) -> list[Diagnostic]:
        """Checker warnings of the policy in force."""
    @property
    def reads(self) -> dict[str, list[str]]:
        """The attributes the policy reads, by root (`principal`, `resource`, `context`)."""

class CannotFilter(WardenError):
    """A rule no filter can express; `rule` is its `file:line` (see `warden.filter`)."""

    rule: str

def _residual_json(engine: Engine, request: str) -> str:
    """Answer a filter request given as JSON text (used by `warden.filter`)."""

def cli_main(argv: list[str]) -> int:
    """Run the `warden` command line on `argv` (program name first); return its exit
    status. The wheel's `warden` script (`warden._cli`) calls it."""
