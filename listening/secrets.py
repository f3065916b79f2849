"""Secret values: masking for display and logs, reading them from files.

Settings marked secret (``json_schema_extra={"secret": True}``: salts, passwords, tokens,
webhook secrets, URLs that may carry a password) are shown as ``********`` by ``listening
config show``; URLs keep their scheme, user and host (``scheme://user:****@host``). Every
setting can be read from a file: ``LISTENING_<GROUP>__<NAME>_FILE=/run/secrets/x`` (container
secrets), see :func:`file_overrides` and docs/SECURITY.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from listening.errors import ConfigError

MASK = "********"
URL_MASK = "****"
SECRET_QUERY_KEYS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "token",
        "access_token",
        "api_key",
        "apikey",
        "key",
        "secret",
        "client_secret",
        "sig",
        "signature",
    }
)
FILE_SUFFIX = "_FILE"


def mask_url(url: str) -> str:
    """``url`` with its password (and secret-looking query values) replaced by ``****``."""
    try:
        parts = urlsplit(url)
        password = parts.password
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if password is not None:
        if ":" in host:
            host = f"[{host}]"
        if port:
            host = f"{host}:{port}"
        netloc = f"{parts.username or ''}:{URL_MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SECRET_QUERY_KEYS for k, _ in pairs):
            query = urlencode(
                [(k, URL_MASK if k.lower() in SECRET_QUERY_KEYS else v) for k, v in pairs],
                safe="*",
            )
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_value(value: object) -> str:
    """How a secret setting is shown: URLs keep everything but the password."""
    text = "" if value is None else str(value)
    if not text:
        return ""
    if "://" in text:
        return mask_url(text)
    return MASK


SECRET_KEYS = frozenset(
    {"secret", "password", "token", "api_key", "authorization", "headers", "auth", "smtp_password"}
)


def is_secret(field: FieldInfo) -> bool | str:
    """The field's secret marker: ``True`` (mask the value), ``"keys"`` (mask secret-named
    keys and URL passwords inside a structure), ``"tail"`` (long tokens keep their last four
    characters, to tell them apart) or ``False``."""
    extra = field.json_schema_extra
    if isinstance(extra, dict):
        marker = extra.get("secret", False)
        return marker if isinstance(marker, bool | str) else bool(marker)
    return field.annotation is SecretStr  # pydantic's own secret type is a secret too


def mask_setting(value: Any, marker: bool | str = True) -> Any:
    """A secret setting's value for display: strings masked, dicts/lists masked per item."""
    if marker == "keys":
        return _mask_keys(value)
    if marker == "tail":
        if isinstance(value, dict):
            return {k: mask_setting(v, "tail") for k, v in value.items()}
        text = "" if value is None else str(value)
        return f"…{text[-4:]}" if len(text) > 12 else (MASK if text else "")
    if isinstance(value, dict):
        return {k: mask_setting(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_setting(v) for v in value]
    if isinstance(value, SecretStr):
        return mask_value(value.get_secret_value())
    if isinstance(value, str):
        return mask_value(value)
    return value


def _mask_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (mask_setting(v) if str(k).lower() in SECRET_KEYS and v else _mask_keys(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_mask_keys(v) for v in value]
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return value


class FileSecretsSource(PydanticBaseSettingsSource):
    """``LISTENING_<GROUP>__<NAME>_FILE=/path``: the setting's value is the file's content
    (trailing newline removed; JSON for list/dict/number settings). For container secrets
    (Docker/Kubernetes mount them as files). Setting both the variable and its ``_FILE``
    form is an error."""

    def __init__(self, settings_cls: type[BaseSettings], prefix: str = "LISTENING_") -> None:
        super().__init__(settings_cls)
        self.prefix = prefix

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ builds the whole mapping

    def _fields(self) -> Iterator[tuple[tuple[str, ...], str, FieldInfo]]:
        for name, field in self.settings_cls.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                subs = annotation.model_fields
                for sub, sub_field in subs.items():
                    if f"{sub}_file" in subs:  # a declared `<name>_file` setting owns that variable
                        continue
                    yield (name, sub), f"{self.prefix}{name.upper()}__{sub.upper()}", sub_field
            elif f"{name}_file" not in self.settings_cls.model_fields:
                yield (name,), f"{self.prefix}{name.upper()}", field

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for path, env, field in self._fields():
            file_env = env + FILE_SUFFIX
            location = os.environ.get(file_env)
            if not location:
                continue
            if os.environ.get(env) is not None:
                raise ConfigError(
                    f"both {env} and {file_env} are set",
                    f"set only one of them ({file_env} reads the value from a file)",
                )
            values_at = values
            for part in path[:-1]:
                values_at = values_at.setdefault(part, {})
            values_at[path[-1]] = read_secret_file(file_env, location, field)
        return values


def read_secret_file(env: str, location: str, field: FieldInfo) -> Any:
    """The value held by the file ``location`` (named by the variable ``env``)."""
    try:
        text = Path(location).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(
            f"{env}={location}: cannot read the file ({reason})",
            "point it at a readable file holding only the value (e.g. a mounted container "
            "secret), or unset it",
        ) from None
    if field.annotation in (str, SecretStr) or field.annotation == str | None:
        return text
    try:
        return json.loads(text)
    except ValueError:
        raise ConfigError(
            f"{env}={location}: the file does not hold JSON",
            "this setting is a list, a mapping or a number: write it as JSON in the file",
        ) from None
