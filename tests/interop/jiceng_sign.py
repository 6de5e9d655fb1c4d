"""jiceng record signatures, in Python's standard library only (docs/signing.md).

A third-party producer signs each record it sends to an event topic and adds the two headers
this module returns:

    headers = jiceng_sign.headers(secret, key_id, "jiceng.visits", b"520102", avro_bytes)
    producer.produce(topic, key=b"520102", value=avro_bytes, headers=headers)

The signed bytes are b"jiceng-sig-v1", then the topic, key and value each as a 4-byte
big-endian length and the bytes; a null key or value (None) is the length 0xFFFFFFFF alone.
The MAC is HMAC-SHA256 under the county system's 32-byte secret.
"""
import collections
import hashlib
import hmac
import os
import re
import stat
import struct

TAG = b"jiceng-sig-v1"
HEADER_KEY_ID = "jiceng.key-id"
HEADER_SIG = "jiceng.sig"
SIG_PREFIX = "v1:"
NULL_LEN = 0xFFFFFFFF
SECRET_BYTES = 32
KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")


def _field(data):
    """A length-prefixed field; None is null."""
    if data is None:
        return struct.pack(">I", NULL_LEN)
    if len(data) >= NULL_LEN:
        raise ValueError("a field of 4 GiB or more cannot be signed")
    return struct.pack(">I", len(data)) + bytes(data)


def signed_bytes(topic, key, value):
    """The exact bytes the MAC covers. topic: str (UTF-8) or bytes; key, value: bytes or None."""
    if isinstance(topic, str):
        topic = topic.encode("utf-8")
    return TAG + _field(topic) + _field(key) + _field(value)


def signature(secret, topic, key, value):
    """The jiceng.sig header's value: "v1:" and 64 lowercase hex digits."""
    if len(secret) != SECRET_BYTES:
        raise ValueError("a jiceng signing secret is 32 bytes")
    mac = hmac.new(bytes(secret), signed_bytes(topic, key, value), hashlib.sha256)
    return SIG_PREFIX + mac.hexdigest()


def headers(secret, key_id, topic, key, value):
    """The two record headers, as (name, bytes) pairs in the order jiceng writes them."""
    if not KEY_ID.match(key_id):
        raise ValueError("a key id is 1..64 of [A-Za-z0-9._-]")
    return [
        (HEADER_KEY_ID, key_id.encode("ascii")),
        (HEADER_SIG, signature(secret, topic, key, value).encode("ascii")),
    ]


KeyFile = collections.namedtuple("KeyFile", "key_id county secret")


def read_key(path):
    """A jiceng key file (key_id=, county= and secret=<64 hex> lines) as a KeyFile.

    Like libjiceng, it refuses a file that group or others may read, and one that lacks an
    entry, repeats one or has any other."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        raise PermissionError(f"permissions {mode:04o} for '{path}' are too open")
    entries = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, val = line.partition("=")
                name = name.strip()
                if name not in ("key_id", "county", "secret") or name in entries:
                    raise ValueError(f"{path}: unexpected or repeated entry '{name}'")
                entries[name] = val.strip()
    if len(entries) != 3 or not KEY_ID.match(entries["key_id"]) \
            or not re.fullmatch(r"[0-9]{6}", entries["county"]):
        raise ValueError(f"{path}: a key file needs key_id=, county= (six digits) and secret=")
    secret = bytes.fromhex(entries["secret"])
    if len(secret) != SECRET_BYTES:
        raise ValueError(f"{path}: the secret is not 32 bytes")
    return KeyFile(entries["key_id"], int(entries["county"]), secret)


def read_key_file(path):
    """(key_id, secret) from a jiceng key file (see read_key)."""
    key = read_key(path)
    return key.key_id, key.secret
