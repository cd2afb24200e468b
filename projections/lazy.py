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
_dict_getitem, _dict_get = dict.__getitem__, dict.get

# Reads a checkpoint's kept-apart values by digest: {digest: pickled value} (the shell passes one
# that reads the store, `commands.history`; the engine itself does no I/O).
Fetch = Callable[[list[bytes]], dict[bytes, bytes]]


@contextmanager
def no_gc(freeze: bool = False):
    """Pause the cyclic GC. With `freeze`, what was made meanwhile (a fold's state: long-lived,
    without cycles) is then moved out of the collector's sight (`gc.freeze`) rather than scanned
    by the first collection after it resumes (a fifth of a year's replay)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


def lazy_dict(items: dict, fetch: "Fetch | None" = None, kept: dict | None = None) -> "LazyDict":
    lazy = _Closed()
    dict.update(lazy, items)
    lazy.fetch = fetch
    if kept:
        lazy.kept = dict(kept)
    return lazy


def _opened(items: dict) -> "LazyDict":
    lazy = LazyDict()
    dict.update(lazy, items)
    return lazy


class LazyDict(dict):
    """The state's leads, customers, contracts and referral sources. A checkpoint keeps each value
    apart, pickled, under the digest of its bytes (unchanged values are not written again); a
    restored value stays that digest -- `bytes`, never a value type of its own -- until it is
    first read, when `fetch` brings its bytes. A command touches a handful of a year's leads, so
    loading the state costs about the same on a long history as on a short one.

    A state that goes on folding after a checkpoint (a long fold leaves one every few thousand
    events) has its values parked the same way (`digests(..., park=True)`): each stays its digest,
    with the object itself in `kept`, until it is read again. The next checkpoint pickles only
    the values read since -- the ones that may have changed -- so a fold's checkpoints together
    cost about one whole pickle of the state, not one per checkpoint.

    Reading by key or `get` is plain `dict`'s (the fold reads these all the time) until a value
    is kept apart: then the dict becomes a `_Closed` one, which opens digests as they are read."""

    __slots__ = ("fetch", "kept")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fetch: Fetch | None = None
        self.kept: dict = {}  # key -> (digest, object) of a parked value

    def _unpark(self, key, digest):
        entry = self.kept.pop(key, None) if self.kept else None
        if entry is not None and entry[0] == digest:
            return entry[1]
        return _MISSING

    def _open(self, key, value):
        if type(value) is bytes:
            found = self._unpark(key, value)
            value = pickle.loads(self.fetch([value])[value]) if found is _MISSING else found
            dict.__setitem__(self, key, value)
        return value

    def _open_all(self) -> None:
        closed = [(key, value) for key, value in dict.items(self) if type(value) is bytes]
        if not closed:
            return
        with no_gc():
            opened = []
            for key, value in closed:
                found = self._unpark(key, value)
                if found is _MISSING:
                    opened.append((key, value))
                else:
                    dict.__setitem__(self, key, found)
            if opened:
                found = self.fetch([value for _, value in opened])
                for key, value in opened:
                    dict.__setitem__(self, key, pickle.loads(found[value]))

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
        if type(value) is not bytes:
            return value
        found = self._unpark(key, value)
        return pickle.loads(self.fetch([value])[value]) if found is _MISSING else found

    def peek_many(self, keys) -> dict:
        """{key: value} for the `keys` present, to read, not to change: the values kept apart by a
        restored checkpoint come in one `fetch` (and stay opened); a parked value is read where it
        is parked (and stays parked: the next checkpoint need not pickle it again)."""
        out, closed = {}, []
        kept = self.kept
        for key in keys:
            value = dict.get(self, key, _MISSING)
            if value is _MISSING:
                continue
            if type(value) is bytes:
                entry = kept.get(key) if kept else None
                if entry is not None and entry[0] == value:
                    value = entry[1]
                else:
                    closed.append((key, value))
                    continue
            out[key] = value
        if closed:
            found = self.fetch([value for _, value in closed])
            with no_gc():
                for key, value in closed:
                    out[key] = opened = pickle.loads(found[value])
                    dict.__setitem__(self, key, opened)
        return out

    def setdefault(self, key, default=None):
        if key in self:
            return self[key]
        dict.__setitem__(self, key, default)
        return default

    def copy(self):
        return lazy_dict(self, self.fetch, self.kept)

    def digests(self, items: dict[bytes, bytes], park: bool = False) -> dict:
        """{key: digest}, adding to `items` the pickled bytes of every value not kept yet; with
        `park`, each such value is parked (see the class)."""
        dumps, protocol, digest = pickle.dumps, pickle.HIGHEST_PROTOCOL, hashlib.blake2b
        out = {}
        parked = []
        for key, value in dict.items(self):
            if type(value) is not bytes:
                blob = dumps(value, protocol=protocol)
                kept = digest(blob, digest_size=16).digest()
                items[kept] = blob
                if park:
                    parked.append((key, kept, value))
                value = kept
            out[key] = value
        if parked:
            self.__class__ = _Closed  # same layout: from now on a read may meet a digest
            stash = self.kept
            for key, kept, value in parked:
                dict.__setitem__(self, key, kept)
                stash[key] = (kept, value)
        return out

    def __reduce__(self):
        self._open_all()
        return (_opened, (dict(dict.items(self)),))


class _Closed(LazyDict):
    """A `LazyDict` holding digests: a read by key or `get` opens one (see `LazyDict`)."""

    __slots__ = ()

    def __getitem__(self, key):
        value = _dict_getitem(self, key)
        return self._open(key, value) if type(value) is bytes else value  # inline: the fold's hot path

    def get(self, key, default=None):
        value = _dict_get(self, key, _MISSING)
        if value is _MISSING:
            return default
        return self._open(key, value) if type(value) is bytes else value


def open_timeline(customer) -> list:
    """A restored customer's timeline, unpickled on its first read (see `checkpoint`)."""
    blob = customer.__dict__.pop("_timeline_blob", None)
    timeline = pickle.loads(blob) if blob is not None else []
    customer.__dict__["timeline"] = timeline
    return timeline
