"""Content-addressed blob store: every original file is kept once, under its sha256.

Originals live at ``root/ab/cd/abcd…`` (the sha256 of their plaintext); cached derived
files (rendered page images) at ``root/cache/xy/<name>``.  Writes are atomic, reads verify.

**Encryption at rest (optional).**  A :class:`BlobStore` given a :class:`KeyRing` with a
current key writes every blob sealed with AES-256-GCM::

    MAGIC (8) | format version (1) | key id (8) | nonce (12) | ciphertext | tag (16)

The associated data is that 17-byte header followed by the blob's identity
(``original:<sha256>`` or ``cache:<name>``), so a file put in another blob's place fails
authentication.  The key id is the first 8 bytes of ``sha256("dossier-blob-key\\0" + key)``:
it names the key without revealing it.  Without a current key the files hold the plain bytes,
exactly as before encryption existed.  Reads accept both forms, decrypting with any key of
the ring, so a store may be mixed (plaintext blobs written before encryption was turned on,
blobs under an old key during a rotation); :meth:`BlobStore.rotate` brings every blob under
one key.  Nothing that fails to decrypt, authenticate or hash to its name is ever returned.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from foundation.errors import ConfigError
from foundation.messages import msg
from records._errors import BlobCorrupt, BlobMissing, BlobUnreadable, RecordsError

#: First bytes of an encrypted blob (binary, with the CR/LF/^Z traps PNG uses against text-mode copies).
MAGIC = b"\x89DSB\r\n\x1a\n"
FORMAT_VERSION = 1
KEY_BYTES = 32
_KEY_ID_LEN = 8
_NONCE_LEN = 12
_TAG_LEN = 16
_HEADER_LEN = len(MAGIC) + 1 + _KEY_ID_LEN
_PREFIX_LEN = _HEADER_LEN + _NONCE_LEN
#: Bytes an encrypted blob has beyond its plaintext.
OVERHEAD = _PREFIX_LEN + _TAG_LEN
_PIECE = 1 << 20
_ONE_SHOT_MAX = 1 << 30  # AESGCM's one-shot calls stop at 2 GiB; larger blobs are decrypted piece by piece
_DIGEST = re.compile(r"[0-9a-f]{64}")
_CACHE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_HEX_KEY = re.compile(r"[0-9A-Fa-f]{64}")


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


# -- keys ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlobKey:
    """One 256-bit blob key; ``id`` names it (in blob headers, status output) without revealing it."""

    secret: bytes = field(repr=False)

    @property
    def id_bytes(self) -> bytes:
        """The 8-byte key id written into each blob's header."""
        return hashlib.sha256(b"dossier-blob-key\0" + self.secret).digest()[:_KEY_ID_LEN]

    @property
    def id(self) -> str:
        """The key id as 16 hex digits."""
        return self.id_bytes.hex()

    @classmethod
    def generate(cls) -> BlobKey:
        """A new random key (from the operating system's CSPRNG)."""
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def parse(cls, text: str, where: str) -> BlobKey:
        """A key from base64 (standard or URL-safe, padding optional) or hex of 32 bytes.

        Raises :class:`ConfigError` naming ``where`` (a setting, a file and line) — never the value.
        """
        raw = "".join(text.split())
        secret = b""
        if _HEX_KEY.fullmatch(raw):
            secret = bytes.fromhex(raw)
        elif raw:
            unpadded = raw.rstrip("=").replace("-", "+").replace("_", "/")
            with contextlib.suppress(binascii.Error, ValueError):
                secret = base64.b64decode(unpadded + "=" * (-len(unpadded) % 4), validate=True)
        if (
            len(secret) != KEY_BYTES or len(set(secret)) < 8
        ):  # the second test catches placeholders (all zeros …)
            raise ConfigError(msg("records.key.invalid", where=where))
        return cls(secret)

    def encoded(self) -> str:
        """The key as standard base64 (what key files hold)."""
        return base64.b64encode(self.secret).decode("ascii")


@dataclass(frozen=True)
class KeyRing:
    """The key new blobs are sealed with (``current``; None = write plaintext) and old keys still read."""

    current: BlobKey | None = None
    old: tuple[BlobKey, ...] = ()

    @property
    def keys(self) -> tuple[BlobKey, ...]:
        """Every key, current first, each once."""
        seen: dict[bytes, BlobKey] = {}
        for key in (self.current, *self.old):
            if key is not None:
                seen.setdefault(key.id_bytes, key)
        return tuple(seen.values())

    def find(self, key_id: bytes) -> BlobKey | None:
        """The key with this id, or None."""
        return next((k for k in self.keys if k.id_bytes == key_id), None)

    def with_current(self, key: BlobKey) -> KeyRing:
        """This ring with ``key`` as the current key; every key it had stays, for reading."""
        return KeyRing(key, tuple(k for k in self.keys if k.id_bytes != key.id_bytes))

    @classmethod
    def from_settings(cls, key: str = "", key_file: str = "", old: str = "") -> KeyRing:
        """The ring of ``DOSSIER_BLOB_KEY`` / ``DOSSIER_BLOB_KEY_FILE`` (first key current, the rest old)
        and ``DOSSIER_BLOB_KEY_OLD`` (comma-separated).  Raises :class:`ConfigError` for a bad or
        unreadable key, or when both the key and the key file are set."""
        if key.strip() and key_file.strip():
            raise ConfigError(msg("records.key.both_set"))
        ring: list[BlobKey] = []
        if key.strip():
            ring.append(BlobKey.parse(key, "DOSSIER_BLOB_KEY"))
        elif key_file.strip():
            ring.extend(read_key_file(Path(key_file.strip()).expanduser()))
        olds = [
            BlobKey.parse(part, f"DOSSIER_BLOB_KEY_OLD（第 {n} 个 / item {n}）")
            for n, part in enumerate((p for p in old.split(",") if p.strip()), start=1)
        ]
        if not ring:
            return cls(None, tuple(olds))
        return cls(ring[0], (*ring[1:], *olds))


def read_key_file(path: Path) -> list[BlobKey]:
    """The keys of a key file: one per line (blank lines and ``#`` comments skipped), the current one first."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(msg("records.key.file_unreadable", path=path, reason=reason)) from None
    keys = [
        BlobKey.parse(line, f"密钥文件 {path} 第 {n} 行 / key file {path} line {n}")
        for n, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not keys:
        raise ConfigError(msg("records.key.file_empty", path=path))
    return keys


def write_key_file(path: Path, key: BlobKey, keep: Iterable[BlobKey] = (), *, replace: bool = False) -> None:
    """Write a key file (mode 0600): ``key`` first, then ``keep`` (old keys, for reading).

    A new file is created exclusively (an existing one is never overwritten) unless ``replace``,
    which swaps the file atomically (to put a new key on top of an existing key file).
    """
    stamp = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    lines = [
        "# Dossier 原始文件加密密钥 / Dossier blob keys (DOSSIER_BLOB_KEY_FILE).",
        "# 第一个密钥用于加密，其余只用于解密。丢失密钥 = 丢失原始文件：请另行安全备份本文件。",
        "# The first key encrypts, the others only decrypt. Lose the key = lose the originals: back this file up safely.",
        f"# {key.id}  (current since {stamp})",
        key.encoded(),
    ]
    for old in keep:
        if old.id_bytes != key.id_bytes:
            lines += [f"# {old.id}  (old: read only)", old.encoded()]
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not replace:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp files are 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- reports -------------------------------------------------------------------------------


@dataclass
class BlobCensus:
    """What :meth:`BlobStore.census` found: counts per state (``plaintext``, a key id, ``unreadable``)."""

    originals: dict[str, int] = field(default_factory=dict)
    cached: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (blob, message), with verify=True


@dataclass
class RotateReport:
    """What :meth:`BlobStore.rotate` did."""

    key_id: str
    total: int = 0
    resealed: int = 0  # re-encrypted (or encrypted for the first time) under the key
    already: int = 0  # already under the key: left alone
    dropped: int = 0  # cached entries removed (plaintext or unreadable): they are rendered again on demand
    failed: list[tuple[str, str]] = field(default_factory=list)  # (original, message): left as it was
    removed: list[tuple[str, str]] = field(
        default_factory=list
    )  # (cached name, message): unreadable, removed


Progress = Callable[[int, int], None]


# -- the store -----------------------------------------------------------------------------


class BlobStore:
    """Files under ``root/ab/cd/abcd…``; writes are atomic, reads verify the checksum (and decrypt)."""

    def __init__(self, root: Path, keys: KeyRing | None = None) -> None:
        self.root = root
        self.keys = keys or KeyRing()

    @property
    def encrypted(self) -> bool:
        """True when new blobs are written encrypted (a current key is set)."""
        return self.keys.current is not None

    def path(self, sha256: str) -> Path:
        """Where the blob with this digest lives (it may not exist, and it may be encrypted: read with :meth:`get`)."""
        if not _DIGEST.fullmatch(sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        """True when the blob is stored."""
        return self.path(sha256).is_file()

    def put(self, data: bytes) -> str:
        """Store ``data`` (idempotent; encrypted when a key is set) and return its sha256."""
        digest = sha256_bytes(data)
        target = self.path(digest)
        try:
            # Stored already: made fresh again, so a repair that removes blobs no version refers to
            # (``dossier check --repair``, which spares young files) leaves it while its row is written.
            os.utime(target)
            return digest
        except FileNotFoundError:
            pass
        self._write(target, data, _original(digest))
        return digest

    def delete(self, sha256: str) -> bool:
        """Remove an original and every cached entry derived from it (named with its digest); True if it was there.

        For deleting a document: call it only for digests no version refers to any more.
        """
        for name, cached in list(self.cached()):
            if sha256 in name:
                cached.unlink(missing_ok=True)
        path = self.path(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def get(self, sha256: str) -> bytes:
        """Read a blob, decrypt it when sealed, and verify it hashes to its name.

        Raises :class:`BlobMissing`, :class:`BlobUnreadable` (cannot be decrypted: no or unknown
        key, altered, truncated or swapped file) or :class:`BlobCorrupt` (wrong checksum).
        """
        path = self.path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobMissing(sha256) from None
        if data[: len(MAGIC)] == MAGIC:
            try:
                data = self._open_sealed(data, _original(sha256), sha256)
            except BlobUnreadable:
                if sha256_bytes(data) != sha256:
                    raise
                # a plaintext original that merely starts like a sealed one: it hashes to its name
        if sha256_bytes(data) != sha256:
            raise BlobCorrupt(sha256)
        return data

    def size(self, sha256: str) -> int:
        """The plaintext size of a stored blob from its file's size (no verification: read with :meth:`get`)."""
        path = self.path(sha256)
        try:
            with path.open("rb") as fh:
                head = fh.read(len(MAGIC))
                size = os.fstat(fh.fileno()).st_size
        except FileNotFoundError:
            raise BlobMissing(sha256) from None
        return size - OVERHEAD if head == MAGIC and size >= OVERHEAD else size

    @contextlib.contextmanager
    def plaintext_file(self, sha256: str) -> Iterator[Path]:
        """A path to the verified plaintext of a blob, valid inside the ``with`` block (constant memory).

        Without any key configured a plaintext blob is checked against its name and its own
        path is given (read it, never write it) — as before encryption existed.  Otherwise the
        blob (sealed or not: ``keys rotate`` may seal a plaintext one at any moment) is decrypted,
        authenticated and checked into a private temporary file (mode 0600 in a 0700 folder under
        ``TMPDIR``) that is removed when the block ends, whatever happens.  Raises as :meth:`get`
        does, before the block runs.
        """
        path = self.path(sha256)
        if not self.keys.keys and not self._sealed(path, sha256):
            if not self._hashes_to(path, sha256):
                raise BlobCorrupt(sha256)
            yield path
            return
        folder = Path(tempfile.mkdtemp(prefix="dossier-plain-"))
        try:
            plain = folder / "original"
            try:
                with path.open("rb") as src, _private_file(plain) as out:
                    for piece in _checked(self._plain_pieces(src, _original(sha256), sha256), sha256):
                        out.write(piece)
            except FileNotFoundError:
                raise BlobMissing(sha256) from None
            except BlobUnreadable:
                if not self._hashes_to(path, sha256):
                    raise
                # a plaintext original that merely starts like a sealed one: copy it as it is, checked
                plain = folder / "original-as-stored"
                with path.open("rb") as src, _private_file(plain) as out:
                    for piece in _checked(_read_pieces(src), sha256):
                        out.write(piece)
            yield plain
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def verify(self, sha256: str) -> None:
        """Read, decrypt and check a blob in constant memory, keeping nothing; raises as :meth:`get` does."""
        path = self.path(sha256)
        try:
            with path.open("rb") as src:
                for _piece in _checked(self._plain_pieces(src, _original(sha256), sha256), sha256):
                    pass
        except FileNotFoundError:
            raise BlobMissing(sha256) from None
        except BlobUnreadable:
            if not self._hashes_to(path, sha256):
                raise

    # -- cached derived files (page images) ---------------------------------------------------

    def cached_path(self, name: str) -> Path:
        """Where the cached file ``name`` lives.  Names are 1–200 of ``A-Z a-z 0-9 . _ -``, not starting
        with a dot or dash (so no ``/``, ``..`` or hidden files); anything else raises ``ValueError``."""
        if not _CACHE_NAME.fullmatch(name) or ".." in name:
            raise ValueError(f"not a valid cache name: {name!r}")
        return self.root / "cache" / hashlib.sha256(name.encode("ascii")).hexdigest()[:2] / name

    def put_cached(self, name: str, data: bytes) -> None:
        """Store (or replace) a derived file such as a rendered page image, atomically; sealed like
        originals when a key is set.  Choose names that change when their inputs change
        (e.g. ``page-<sha256>-<n>-<width>.png``)."""
        self._write(self.cached_path(name), data, _cached(name))

    def get_cached(self, name: str) -> bytes | None:
        """The cached file ``name``, or None when there is none.

        With a key set only authenticated (sealed) entries are served: a plaintext entry counts
        as absent (render it again; :meth:`put_cached` replaces it).  A sealed entry that cannot
        be decrypted raises :class:`BlobUnreadable` — callers of derived data may log it, render
        again and :meth:`put_cached` over it.
        """
        try:
            data = self.cached_path(name).read_bytes()
        except FileNotFoundError:
            return None
        if data[: len(MAGIC)] != MAGIC:
            return None if self.encrypted else data
        return self._open_sealed(data, _cached(name), name, cached=True)

    def delete_cached(self, name: str) -> bool:
        """Remove a cached file; True when there was one."""
        try:
            self.cached_path(name).unlink()
        except FileNotFoundError:
            return False
        return True

    # -- listing, status, rotation ------------------------------------------------------------

    def originals(self) -> Iterator[tuple[str, Path]]:
        """(sha256, path) of every stored original, in digest order (temporary files skipped)."""
        for first in _subdirs(self.root, 2):
            for second in _subdirs(first, 2):
                prefix = first.name + second.name
                for entry in _entries(second):
                    if _DIGEST.fullmatch(entry.name) and entry.name[:4] == prefix and entry.is_file():
                        yield entry.name, Path(entry.path)

    def cached(self) -> Iterator[tuple[str, Path]]:
        """(name, path) of every cached file (temporary files skipped)."""
        for bucket in _subdirs(self.root / "cache", 2):
            for path in sorted(bucket.iterdir()):
                if _CACHE_NAME.fullmatch(path.name) and path.is_file():
                    yield path.name, path

    def leftovers(self) -> Iterator[Path]:
        """Temporary files of writes that were interrupted (a crash between writing and renaming).

        Writes in progress have such files too: callers remove only old ones.
        """
        folders = [s for f in _subdirs(self.root, 2) for s in _subdirs(f, 2)]
        folders += _subdirs(self.root / "cache", 2)
        for folder in folders:
            for entry in _entries(folder):
                if entry.name.startswith(".tmp-") and entry.is_file():
                    yield Path(entry.path)

    def state(self, path: Path) -> str:
        """``plaintext`` or the key id (16 hex digits) a blob file's header names; reads 17 bytes only."""
        with path.open("rb") as fh:
            head = fh.read(_HEADER_LEN)
        if head[: len(MAGIC)] != MAGIC or len(head) < _HEADER_LEN:
            return "plaintext"
        return head[len(MAGIC) + 1 :].hex()

    def census(self, verify: bool = False, progress: Progress | None = None) -> BlobCensus:
        """Count blobs by state (from their headers); with ``verify`` read, decrypt and check every one,
        counting failures as ``unreadable`` and listing them in ``problems``."""
        census = BlobCensus()
        entries = [(True, n, p) for n, p in self.originals()] + [(False, n, p) for n, p in self.cached()]
        for done, (is_original, name, path) in enumerate(entries, start=1):
            counts = census.originals if is_original else census.cached
            try:
                state = self.state(path)
                if verify:
                    if is_original:
                        self.verify(name)
                    elif state != "plaintext":
                        self._open_sealed(path.read_bytes(), _cached(name), name, cached=True)
            except (BlobCorrupt, BlobMissing) as exc:
                state = "unreadable"
                census.problems.append((name, exc.message))
            except OSError as exc:
                state = "unreadable"
                census.problems.append(
                    (name, str(msg("records.blob.cannot_read", detail=exc.strerror or exc)))
                )
            counts[state] = counts.get(state, 0) + 1
            if progress is not None:
                progress(done, len(entries))
        return census

    def rotate(self, key: BlobKey | None = None, progress: Progress | None = None) -> RotateReport:
        """Bring every blob under ``key`` (default: the current key), one file at a time.

        Each blob not already under the key is read with the ring (plus ``key``), verified, sealed
        again under ``key`` into a temporary file beside it and swapped in atomically; an
        interruption leaves every blob whole and readable, and running this again carries on
        (blobs already under the key are skipped, so it is idempotent).  Cached entries under other
        keys are resealed; plaintext or unreadable cached entries are removed (derived data, rendered
        again).  An original that cannot be read is left as it is and listed in ``failed``.
        One rotation at a time per store.
        """
        target = key or self.keys.current
        if target is None:
            raise ConfigError(msg("records.key.none_set"))
        reader = BlobStore(self.root, self.keys.with_current(target))
        report = RotateReport(target.id)
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".rotate.lock").open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RecordsError(msg("records.key.rotation_running")) from None
            entries = [(True, n, p) for n, p in self.originals()] + [(False, n, p) for n, p in self.cached()]
            report.total = len(entries)
            for done, (is_original, name, path) in enumerate(entries, start=1):
                reader._rotate_one(is_original, name, path, target, report)
                if progress is not None:
                    progress(done, report.total)
        return report

    # -- internals ------------------------------------------------------------------------------

    def _rotate_one(
        self, is_original: bool, name: str, path: Path, target: BlobKey, report: RotateReport
    ) -> None:
        try:
            state = self.state(path)
        except FileNotFoundError:
            return  # removed meanwhile
        if state == target.id:
            report.already += 1
            return
        if not is_original and state == "plaintext":
            path.unlink(missing_ok=True)
            report.dropped += 1
            return
        identity = _original(name) if is_original else _cached(name)
        try:
            with path.open("rb") as src:
                pieces = self._plain_pieces(src, identity, name, cached=not is_original)
                if is_original:
                    pieces = _checked(pieces, name)
                atomic_write(path, lambda fh: _seal_into(fh, target, identity, pieces))
        except BlobUnreadable as exc:
            if not is_original:
                path.unlink(missing_ok=True)
                report.dropped += 1
                report.removed.append((name, exc.message))
            elif self._hashes_to(path, name):  # plaintext that merely starts like a sealed blob
                with path.open("rb") as src:
                    atomic_write(
                        path, lambda fh: _seal_into(fh, target, identity, _checked(_read_pieces(src), name))
                    )
                report.resealed += 1
            else:
                report.failed.append((name, exc.message))
            return
        except BlobCorrupt as exc:
            report.failed.append((name, exc.message))
            return
        report.resealed += 1

    def _write(self, target: Path, data: bytes, identity: bytes) -> None:
        key = self.keys.current
        if key is None:
            atomic_write(target, lambda fh: fh.write(data))
        else:
            view = memoryview(data)
            pieces = (view[i : i + _PIECE] for i in range(0, len(view), _PIECE))
            atomic_write(target, lambda fh: _seal_into(fh, key, identity, pieces))

    def _key_for(self, head: bytes, label: str, cached: bool) -> BlobKey:
        """The ring's key for a sealed blob's header, or :class:`BlobUnreadable` saying why not."""
        if head[len(MAGIC)] != FORMAT_VERSION:
            raise BlobUnreadable(label, "format", cached=cached)
        key_id = head[len(MAGIC) + 1 : _HEADER_LEN]
        key = self.keys.find(key_id)
        if key is None:
            raise BlobUnreadable(
                label, "unknown_key" if self.keys.keys else "no_key", key_id.hex(), cached=cached
            )
        return key

    def _open_sealed(self, data: bytes, identity: bytes, label: str, cached: bool = False) -> bytes:
        """The plaintext of a whole sealed blob held in memory, authenticated."""
        if len(data) < OVERHEAD:
            raise BlobUnreadable(label, "auth", cached=cached)
        key = self._key_for(data[:_HEADER_LEN], label, cached)
        nonce = data[_HEADER_LEN:_PREFIX_LEN]
        body = memoryview(data)[_PREFIX_LEN:]
        aad = data[:_HEADER_LEN] + identity
        try:
            if len(body) <= _ONE_SHOT_MAX:
                return AESGCM(key.secret).decrypt(nonce, body, aad)
            dec = Cipher(algorithms.AES(key.secret), modes.GCM(nonce, bytes(body[-_TAG_LEN:]))).decryptor()
            dec.authenticate_additional_data(aad)
            out = bytearray()
            for i in range(0, len(body) - _TAG_LEN, _PIECE):
                out += dec.update(body[i : min(i + _PIECE, len(body) - _TAG_LEN)])
            out += dec.finalize()
            return bytes(out)
        except InvalidTag:
            raise BlobUnreadable(label, "auth", cached=cached) from None

    def _plain_pieces(
        self, src: BinaryIO, identity: bytes, label: str, cached: bool = False
    ) -> Iterator[bytes]:
        """The plaintext of an open blob file, piece by piece (constant memory).

        For a sealed file the authentication happens at the end: it raises
        :class:`BlobUnreadable` then, so nothing it yielded may be used before it is exhausted.
        """
        size = os.fstat(src.fileno()).st_size
        prefix = src.read(_PREFIX_LEN)
        if prefix[: len(MAGIC)] != MAGIC:
            yield prefix
            yield from _read_pieces(src)
            return
        if size < OVERHEAD:
            raise BlobUnreadable(label, "auth", cached=cached)
        key = self._key_for(prefix[:_HEADER_LEN], label, cached)
        src.seek(size - _TAG_LEN)
        tag = src.read(_TAG_LEN)
        src.seek(_PREFIX_LEN)
        dec = Cipher(algorithms.AES(key.secret), modes.GCM(prefix[_HEADER_LEN:], tag)).decryptor()
        dec.authenticate_additional_data(prefix[:_HEADER_LEN] + identity)
        left = size - OVERHEAD
        while left > 0:
            piece = src.read(min(_PIECE, left))
            if not piece:
                raise BlobUnreadable(label, "auth", cached=cached)  # shrank while being read
            left -= len(piece)
            yield dec.update(piece)
        try:
            yield dec.finalize()
        except InvalidTag:
            raise BlobUnreadable(label, "auth", cached=cached) from None

    def _sealed(self, path: Path, sha256: str) -> bool:
        try:
            with path.open("rb") as fh:
                return fh.read(len(MAGIC)) == MAGIC
        except FileNotFoundError:
            raise BlobMissing(sha256) from None

    def _hashes_to(self, path: Path, sha256: str) -> bool:
        """True when the file's raw bytes hash to ``sha256`` (streamed)."""
        digest = hashlib.sha256()
        try:
            with path.open("rb") as fh:
                for piece in _read_pieces(fh):
                    digest.update(piece)
        except FileNotFoundError:
            raise BlobMissing(sha256) from None
        return digest.hexdigest() == sha256


def _original(sha256: str) -> bytes:
    return b"original:" + sha256.encode("ascii")


def _cached(name: str) -> bytes:
    return b"cache:" + name.encode("ascii")


def _read_pieces(fh: BinaryIO) -> Iterator[bytes]:
    while piece := fh.read(_PIECE):
        yield piece


def _checked(pieces: Iterable[bytes], sha256: str) -> Iterator[bytes]:
    """Pass pieces through; at the end raise :class:`BlobCorrupt` unless they hashed to ``sha256``."""
    digest = hashlib.sha256()
    for piece in pieces:
        digest.update(piece)
        yield piece
    if digest.hexdigest() != sha256:
        raise BlobCorrupt(sha256)


def _seal_into(fh: BinaryIO, key: BlobKey, identity: bytes, pieces: Iterable[bytes | memoryview]) -> None:
    """Write header, nonce, AES-256-GCM ciphertext of ``pieces`` and tag (a fresh random nonce per file)."""
    header = MAGIC + bytes([FORMAT_VERSION]) + key.id_bytes
    nonce = os.urandom(_NONCE_LEN)
    enc = Cipher(algorithms.AES(key.secret), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(header + identity)
    fh.write(header + nonce)
    for piece in pieces:
        fh.write(enc.update(piece))
    fh.write(enc.finalize())
    fh.write(enc.tag)


def atomic_write(target: Path, write: Callable[[BinaryIO], object], *, sync_folder: bool = False) -> None:
    """Write a file beside ``target`` (mode 0600), fsync it and rename it over ``target``.

    Readers see the whole old file or the whole new one; when ``write`` raises (a piece failed
    to authenticate, a checksum did not match) the temporary file is removed and ``target`` is
    untouched.  ``sync_folder`` also fsyncs the folder, so the rename itself survives a crash
    (a backup's manifest, written last, must).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)  # atomic: readers see all of the file or none
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if sync_folder:
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


@contextlib.contextmanager
def _private_file(path: Path) -> Iterator[BinaryIO]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        yield fh


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` sorted by name (none when it is gone); ``os.scandir`` spares a stat per entry."""
    try:
        with os.scandir(folder) as found:
            return sorted(found, key=lambda e: e.name)
    except FileNotFoundError:
        return []


def _subdirs(folder: Path, width: int) -> list[Path]:
    """Sub-folders of ``folder`` whose names are ``width`` hex digits, sorted."""
    return [
        Path(e.path)
        for e in _entries(folder)
        if len(e.name) == width and all(c in "0123456789abcdef" for c in e.name) and e.is_dir()
    ]
