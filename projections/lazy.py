"""Lazy values of a restored checkpoint: `LazyDict` (leads, customers, contracts and referral
sources kept apart by digest, opened on first read), `Fetch` (how they are read back),
`open_timeline` (a customer's timeline kept as its own pickle) and `no_gc` (the cyclic GC paused
while many small objects are made). No I/O here: the shell passes the `Fetch`."""
from __future__ import annotations

import gc
import hashlib
import pickle
from contextlib import contextmanager
from typing import Callable

_MISSING = object()

# Reads a checkpoint's kept-apart values by digest: {digest: pickled value} (the shell passes one
# that reads the store, `commands.history`; the engine itself does no I/O).
Fetch = Callable[[list[bytes]], dict[bytes, bytes]]


@contextmanager
def no_gc():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def lazy_dict(items: dict, fetch: "Fetch | None" = None) -> "LazyDict":
    lazy = LazyDict()
    dict.update(lazy, items)
    lazy.fetch = fetch
    return lazy


class LazyDict(dict):
    """The state's leads, customers, contracts and referral sources. A checkpoint keeps each value
    apart, pickled, under the digest of its bytes (unchanged values are not written again); a
    restored value stays that digest -- `bytes`, never a value type of its own -- until it is
    first read, when `fetch` brings its bytes. A command touches a handful of a year's leads, so
    loading the state costs about the same on a long history as on a short one."""

    __slots__ = ("fetch",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fetch: Fetch | None = None

    def _open(self, key, value):
        if type(value) is bytes:
            value = pickle.loads(self.fetch([value])[value])
            dict.__setitem__(self, key, value)
        return value

    def _open_all(self) -> None:
        digests = [value for value in dict.values(self) if type(value) is bytes]
        if digests:
            found = self.fetch(digests)
            with no_gc():
                for key, value in list(dict.items(self)):
                    if type(value) is bytes:
                        dict.__setitem__(self, key, pickle.loads(found[value]))

    def __getitem__(self, key):
        return self._open(key, dict.__getitem__(self, key))

    def get(self, key, default=None):
        value = dict.get(self, key, _MISSING)
        return default if value is _MISSING else self._open(key, value)

    def values(self):
        self._open_all()
        return list(dict.values(self))

    def items(self):
        self._open_all()
        return list(dict.items(self))

    def pop(self, key, *default):
        value = dict.pop(self, key, _MISSING)
        if value is _MISSING:
            return dict.pop(self, key, *default)  # the default, or KeyError
        return pickle.loads(self.fetch([value])[value]) if type(value) is bytes else value

    def setdefault(self, key, default=None):
        if key in self:
            return self[key]
        dict.__setitem__(self, key, default)
        return default

    def copy(self):
        return lazy_dict(self, self.fetch)

    def digests(self, items: dict[bytes, bytes]) -> dict:
        """{key: digest}, adding to `items` the pickled bytes of every value not kept yet."""
        dumps, protocol, digest = pickle.dumps, pickle.HIGHEST_PROTOCOL, hashlib.blake2b
        out = {}
        for key, value in dict.items(self):
            if type(value) is not bytes:
                blob = dumps(value, protocol=protocol)
                value = digest(blob, digest_size=16).digest()
                items[value] = blob
            out[key] = value
        return out

    def __reduce__(self):
        self._open_all()
        return (lazy_dict, (dict(dict.items(self)),))


def open_timeline(customer) -> list:
    """A restored customer's timeline, unpickled on its first read (see `checkpoint`)."""
    blob = customer.__dict__.pop("_timeline_blob", None)
    timeline = pickle.loads(blob) if blob is not None else []
    customer.__dict__["timeline"] = timeline
    return timeline
