"""Settings: one table declares every ``DOSSIER_*`` setting, its default and its help.

Values come from the process environment, then from a ``.env`` file in the
working directory (the environment wins), then from the defaults below.  A
:class:`Settings` object is built once (:func:`load_settings`) and passed to
whatever needs it; nothing reads ``os.environ`` behind its back.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from foundation.errors import ConfigError
from foundation.messages import msg


@dataclass(frozen=True)
class Setting:
    """One documented setting."""

    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DOSSIER_HOME", "./data", "Data folder: database, blobs, secret key, logs."),
    Setting(
        "DOSSIER_DATABASE_URL",
        "",
        "SQLAlchemy URL of the records database; empty = SQLite file `dossier.db` in DOSSIER_HOME;"
        " postgresql://user:password@host:5432/db for PostgreSQL (then set DOSSIER_OPENSEARCH_URL too).",
    ),
    Setting(
        "DOSSIER_OPENSEARCH_URL",
        "",
        "OpenSearch URL for the search index; empty = embedded SQLite FTS5 index.",
    ),
    Setting(
        "DOSSIER_OPENSEARCH_INDEX",
        "dossier",
        "Alias the OpenSearch index is searched under (its indexes are <alias>-v<version>-<stamp>).",
    ),
    Setting("DOSSIER_OPENSEARCH_SHARDS", "1", "Primary shards of a new OpenSearch index."),
    Setting(
        "DOSSIER_OPENSEARCH_REPLICAS",
        "0",
        "Replicas of each OpenSearch shard (0 on a single node, 1+ on a cluster).",
    ),
    Setting("DOSSIER_REDIS_URL", "redis://127.0.0.1:6379/0", "Redis URL of the job queue."),
    Setting("DOSSIER_OCR_ENGINE", "auto", "OCR engine: auto, tesseract or rapidocr."),
    Setting(
        "DOSSIER_SECRET_KEY",
        "",
        "Key that signs web sessions; empty = generated once and kept in DOSSIER_HOME/secret_key.",
    ),
    Setting(
        "DOSSIER_ADMIN_PASSWORD",
        "",
        "Password `dossier init` gives the admin user; empty = generated and printed once.",
    ),
    Setting(
        "DOSSIER_LOGIN_MAX_FAILURES",
        "5",
        "Wrong passwords in a row that lock an account (0 = never lock).",
    ),
    Setting("DOSSIER_LOGIN_LOCK_MINUTES", "15", "Minutes a locked account refuses every login."),
    Setting(
        "DOSSIER_LOGIN_IP_MAX_FAILURES",
        "20",
        "Failed logins from one client address within DOSSIER_LOGIN_IP_WINDOW_MINUTES after which that address"
        " must wait (any user name; 0 = no limit).",
    ),
    Setting(
        "DOSSIER_LOGIN_IP_WINDOW_MINUTES",
        "15",
        "Sliding window, in minutes, of the per-address login failure limit.",
    ),
    Setting(
        "DOSSIER_SESSION_IDLE_MINUTES",
        "60",
        "Minutes without a request after which a web session is logged out (0 = never).",
    ),
    Setting(
        "DOSSIER_PROXY_COUNT",
        "0",
        "Reverse proxies in front of the web app whose X-Forwarded-For/-Proto/-Host are trusted (client address"
        " for the login limits, HTTPS for Secure cookies); 0 = none, use the connection's address.",
    ),
    Setting(
        "DOSSIER_BLOB_KEY",
        "",
        "Key that encrypts stored originals and cached page images at rest (AES-256-GCM): base64 or hex of 32 random"
        " bytes (`dossier keys generate FILE` makes one); empty = stored unencrypted. Never logged or printed.",
    ),
    Setting(
        "DOSSIER_BLOB_KEY_FILE",
        "",
        "File holding the blob key(s) instead of DOSSIER_BLOB_KEY (not both): one key per line, the first encrypts,"
        " the others only decrypt (old keys during a rotation).",
    ),
    Setting(
        "DOSSIER_BLOB_KEY_OLD",
        "",
        "Old blob keys still accepted for reading (comma-separated, base64 or hex), e.g. during a key rotation.",
    ),
    Setting("DOSSIER_HOST", "127.0.0.1", "Address `dossier serve` listens on."),
    Setting("DOSSIER_PORT", "8000", "Port `dossier serve` listens on."),
    Setting("DOSSIER_WORKERS", "0", "Parallel ingest processes; 0 = one per CPU core."),
    Setting("DOSSIER_MAX_FILE_MB", "200", "Largest file accepted for ingest or upload, in MB."),
    Setting("DOSSIER_MAX_PAGES", "2000", "Most pages (or slides, sheets) read from one file."),
    Setting("DOSSIER_MAX_PIXELS", "200000000", "Most pixels in one image page (decompression bombs)."),
    Setting("DOSSIER_PARSE_TIMEOUT", "120", "Seconds one file may take to parse before it fails."),
    Setting("DOSSIER_ZIP_MAX_MEMBERS", "1000", "Most members read from one archive."),
    Setting("DOSSIER_ZIP_MAX_TOTAL_MB", "500", "Most bytes one archive may expand to, in MB."),
    Setting("DOSSIER_ZIP_MAX_RATIO", "100", "Highest compression ratio allowed for an archive member."),
    Setting("DOSSIER_ZIP_MAX_DEPTH", "2", "Deepest nesting of archives (and e-mail attachments)."),
    Setting(
        "DOSSIER_SPLIT",
        "qr,blank",
        "Separator sheets that split a scanned stack into documents: qr, blank, both (qr,blank) or off.",
    ),
    Setting(
        "DOSSIER_INBOX_SETTLE", "2", "Seconds an inbox file's size must stay unchanged before it is taken."
    ),
    Setting("DOSSIER_LANGUAGE", "zh", "Default UI language: zh (简体中文) or en."),
    Setting(
        "DOSSIER_TIMEZONE",
        "Asia/Shanghai",
        "Time zone the web pages show times in (an IANA name: Asia/Shanghai, Europe/Berlin, UTC); stored times stay UTC.",
    ),
    Setting(
        "DOSSIER_DOCS_DIR",
        "",
        "The built manual served at /docs (default: build/site beside the code, where `make docs` writes it);"
        " the docker compose stack mounts a site built on the host here.",
    ),
    Setting(
        "DOSSIER_PUBLIC_URL",
        "",
        "Address people open the web UI at (http:// or https://), for the document links in exports; empty ="
        " http://DOSSIER_HOST:DOSSIER_PORT — also for the web UI, unless DOSSIER_ALLOWED_HOSTS is set (then the checked"
        " address a request came to). A request's Host header alone never makes a link.",
    ),
    Setting(
        "DOSSIER_EXPORT_MAX_HITS",
        "1000000",
        "Most hits one export may hold; a larger result set is refused before it starts (narrow the search). 0 = no limit.",
    ),
    Setting(
        "DOSSIER_EXPORT_STREAM_MAX",
        "2000",
        "Exports of at most this many hits download straight from the web page; larger ones run as a background job.",
    ),
    Setting(
        "DOSSIER_EXPORT_ZIP_MAX_FILES", "10000", "Most original files one ZIP export may hold. 0 = no limit."
    ),
    Setting(
        "DOSSIER_EXPORT_ZIP_MAX_MB",
        "10240",
        "Most bytes of originals one ZIP export may hold, in MB. 0 = no limit.",
    ),
    Setting(
        "DOSSIER_EXPORT_TTL_HOURS",
        "24",
        "Hours the file of a background export can be downloaded; then it is deleted from DOSSIER_HOME/exports.",
    ),
    Setting(
        "DOSSIER_ALLOWED_HOSTS",
        "",
        "Host names the web app answers to, comma-separated (`.example.com` also allows its subdomains); a request"
        " for any other Host gets 400. The host of DOSSIER_PUBLIC_URL, localhost and 127.0.0.1 are always allowed."
        " Empty = any Host is answered, but links are built from DOSSIER_PUBLIC_URL or DOSSIER_HOST:DOSSIER_PORT.",
    ),
    Setting(
        "DOSSIER_REDIS_RETRY_MAX",
        "10",
        "Longest wait, in seconds, between a worker's tries to reach Redis while it is away (the wait doubles"
        " from 0.5 s up to this).",
    ),
    Setting(
        "DOSSIER_TRASH_DAYS",
        "30",
        "Days a deleted document waits in the trash (hidden from search, restorable) before it is purged for good.",
    ),
    Setting(
        "DOSSIER_BACKUP_DIR",
        "",
        "Folder of scheduled backups (`dossier serve` and the workers make them); empty = no scheduled backups.",
    ),
    Setting(
        "DOSSIER_BACKUP_EVERY_HOURS", "24", "Hours between two scheduled backups into DOSSIER_BACKUP_DIR."
    ),
    Setting(
        "DOSSIER_BACKUP_KEEP", "7", "Scheduled backups kept in DOSSIER_BACKUP_DIR; older ones are removed."
    ),
    Setting(
        "DOSSIER_STALE_DAYS",
        "潜在客户=30,现有客户=60,流失客户=180",
        "Days without any activity or new document after which a customer appears as 'to contact' (客户关怀):"
        " one number for every customer, or per customer type (`潜在=30,现有=60,流失=180`; short and English"
        " forms work; a type left out is never stale; 0 = never).",
    ),
    Setting(
        "DOSSIER_REMINDER_LEAD_DAYS",
        "contract_end=30,renewal=30,quote_valid=3,payment_due=3,invoice_due=3",
        "Days before a date found in a document that its reminder falls due (per kind: contract_end, renewal,"
        " quote_valid, payment_due, invoice_due).",
    ),
    Setting(
        "DOSSIER_DIGEST_HOUR",
        "8",
        "Hour of the day (0-23, the server's local time) when the workers send each user's daily reminder digest.",
    ),
    Setting(
        "DOSSIER_SMTP_HOST",
        "",
        "SMTP server for reminder e-mails; empty = notifications stay in the web UI only.",
    ),
    Setting("DOSSIER_SMTP_PORT", "25", "SMTP server port (587 for STARTTLS, 465 for SSL)."),
    Setting("DOSSIER_SMTP_SECURITY", "none", "SMTP connection security: none, starttls or ssl."),
    Setting("DOSSIER_SMTP_USER", "", "SMTP login (empty = no login)."),
    Setting("DOSSIER_SMTP_PASSWORD", "", "SMTP password."),
    Setting("DOSSIER_SMTP_FROM", "dossier@localhost", "Sender address of reminder e-mails."),
    Setting(
        "DOSSIER_SMTP_TIMEOUT", "20", "Seconds to wait for the SMTP server before a try counts as failed."
    ),
    Setting(
        "DOSSIER_SMTP_MAX_TRIES",
        "8",
        "Tries per e-mail before it is marked failed (retries wait 1, 2, 4 … minutes, up to an hour); admins see failed ones.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}

#: Host names the web app always answers to when DOSSIER_ALLOWED_HOSTS is set (health checks on the machine).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
#: One DOSSIER_ALLOWED_HOSTS entry: a host name or IPv4 address, ``.suffix`` for subdomains, an optional port.
_HOST_ENTRY = re.compile(
    r"\.?[a-z0-9\u00a1-\uffff]([a-z0-9\u00a1-\uffff-]*[a-z0-9\u00a1-\uffff])?"
    r"(\.[a-z0-9\u00a1-\uffff]([a-z0-9\u00a1-\uffff-]*[a-z0-9\u00a1-\uffff])?)*(:\d{1,5})?"
)


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with :func:`load_settings`."""

    values: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        """Return the raw string value of a declared setting."""
        if name not in _BY_NAME:
            raise KeyError(f"undeclared setting {name}")
        return self.values.get(name, _BY_NAME[name].default)

    def get_int(self, name: str) -> int:
        """Return a declared setting as an integer, or fail with a clear message."""
        raw = self.get(name)
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(msg("foundation.config.not_integer", name=name, raw=repr(raw))) from None

    @property
    def home(self) -> Path:
        """The data folder, absolute."""
        return Path(self.get("DOSSIER_HOME")).expanduser().resolve()

    @property
    def database_url(self) -> str:
        """SQLAlchemy URL of the records database."""
        return self.get("DOSSIER_DATABASE_URL") or f"sqlite:///{self.home / 'dossier.db'}"

    @property
    def blob_dir(self) -> Path:
        """Where original files are stored, by sha256."""
        return self.home / "blobs"

    @property
    def workers(self) -> int:
        """Number of parallel ingest processes."""
        n = self.get_int("DOSSIER_WORKERS")
        return n if n > 0 else (os.cpu_count() or 1)

    def secret_key(self) -> str:
        """The web session key: DOSSIER_SECRET_KEY, else one generated once into ``home/secret_key`` (0600)."""
        configured = self.get("DOSSIER_SECRET_KEY")
        if configured:
            return configured
        path = self.home / "secret_key"
        if not path.exists():
            self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process won the race; use its key
                pass
            else:
                with os.fdopen(fd, "w", encoding="ascii") as fh:
                    fh.write(secrets.token_hex(32))
        return path.read_text(encoding="ascii").strip()

    @property
    def public_url(self) -> str:
        """DOSSIER_PUBLIC_URL without a trailing slash ("" when unset); ConfigError unless http(s)://host…."""
        raw = self.get("DOSSIER_PUBLIC_URL").strip().rstrip("/")
        if raw and (urlsplit(raw).scheme not in ("http", "https") or not urlsplit(raw).hostname):
            raise ConfigError(msg("foundation.config.public_url", raw=repr(raw)))
        return raw

    @property
    def trusted_hosts(self) -> list[str] | None:
        """The Host names the web app answers to: DOSSIER_ALLOWED_HOSTS plus DOSSIER_PUBLIC_URL's host and the
        loopback names; None (any host) while DOSSIER_ALLOWED_HOSTS is empty.  ConfigError for an entry that is
        not a host name (a URL, a path, a wildcard), or a DOSSIER_PUBLIC_URL that is not http(s)://host…."""
        public = urlsplit(self.public_url).hostname  # checked first: a bad public address stops the app too
        entries = [e.strip().lower() for e in self.get("DOSSIER_ALLOWED_HOSTS").split(",") if e.strip()]
        if not entries:
            return None
        for entry in entries:
            if not _HOST_ENTRY.fullmatch(entry):
                raise ConfigError(msg("foundation.config.allowed_host", entry=repr(entry)))
        hosts = [entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry for entry in entries]
        return list(dict.fromkeys([*hosts, *([public] if public else []), *LOOPBACK_HOSTS]))

    @property
    def timezone(self) -> ZoneInfo:
        """DOSSIER_TIMEZONE as a zone; ConfigError for a name the time zone database does not know."""
        raw = self.get("DOSSIER_TIMEZONE").strip()
        try:
            return ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(msg("foundation.config.timezone", raw=repr(raw))) from None

    @property
    def split_kinds(self) -> tuple[str, ...]:
        """The separator kinds DOSSIER_SPLIT turns on (empty = never split)."""
        raw = self.get("DOSSIER_SPLIT").replace(" ", "").lower()
        if raw in ("", "off", "no", "none", "0", "false"):
            return ()
        kinds = tuple(dict.fromkeys(k for k in raw.split(",") if k))
        unknown = [k for k in kinds if k not in ("qr", "blank")]
        if unknown:
            raise ConfigError(msg("foundation.config.split", raw=repr(raw)))
        return kinds

    def environ(self) -> dict[str, str]:
        """Every setting as an environment variable, for child processes (workers) to load exactly these.

        Unset settings are passed with their defaults too, so a child never picks up a different
        value from its own environment or ``.env`` (an inherited ``DOSSIER_OPENSEARCH_URL``, say).
        """
        values = {s.name: self.get(s.name) for s in SETTINGS}
        values["DOSSIER_HOME"] = str(self.home)
        return values

    def with_overrides(self, **overrides: str) -> Settings:
        """Return a copy with some settings replaced (tests, CLI options)."""
        merged = dict(self.values)
        for k, v in overrides.items():
            self.get(k)  # raises for undeclared names
            merged[k] = v
        return Settings(merged)


def load_settings(environ: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Settings:
    """Build settings from the environment, then ``.env``, then defaults."""
    env = os.environ if environ is None else environ
    values = _read_dotenv(dotenv if dotenv is not None else Path(".env"))
    values = {k: v for k, v in values.items() if k in _BY_NAME}
    values.update({k: v for k, v in env.items() if k in _BY_NAME})
    return Settings(values)
