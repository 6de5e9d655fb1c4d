"""pg-passwords.py: the local stack's PostgreSQL passwords, kept in one pgpass file.

  pg-passwords.py PGPASS ROLE...

For each ROLE, the password in PGPASS (a libpq password file) is kept, or a new random one is
made and written there; then one `ALTER ROLE ... PASSWORD` per ROLE is printed on stdout, for
the superuser's psql to read from a pipe (deploy/local/stack up does exactly that).

How it works. What is printed is not the password but its SCRAM-SHA-256 verifier (RFC 5802/7677,
as PostgreSQL stores it: SCRAM-SHA-256$4096:SALT$STOREDKEY:SERVERKEY), computed here as psql's
\\password would. So the password never appears on a command line, in the SQL the server reads,
or in the server's log (a failed statement is logged with its text). PGPASS is written under a
temporary name with mode 0600 and renamed into place; it gets one line per ROLE for host
127.0.0.1 and one for localhost, any port and any database. Passwords are 48 hex digits (no
character that pgpass would need to escape). Standard library only (run with python3).
"""
import base64
import hashlib
import hmac
import os
import re
import secrets
import sys

HOSTS = ("127.0.0.1", "localhost")
ITERATIONS = 4096


def fail(msg):
    print(f"pg-passwords: error: {msg}", file=sys.stderr)
    sys.exit(1)


def read_pgpass(path):
    """ROLE -> password, from the lines for 127.0.0.1 (the ones this script writes)."""
    found = {}
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return found
    if st.st_mode & 0o077:
        fail(f"{path} has mode {st.st_mode & 0o777:o}; it must be 0600")
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split(":")
            if len(parts) == 5 and parts[0] == HOSTS[0]:
                found[parts[3]] = parts[4]
    return found


def write_pgpass(path, passwords):
    tmp = f"{path}.tmp.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("# written by deploy/local/stack: the application roles' passwords (libpq pgpass)\n")
        for role in sorted(passwords):
            for host in HOSTS:
                f.write(f"{host}:*:*:{role}:{passwords[role]}\n")
    os.replace(tmp, path)


def scram_verifier(password):
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"SCRAM-SHA-256${ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def main(argv):
    if len(argv) < 3:
        fail("usage: pg-passwords.py PGPASS ROLE...")
    path, roles = argv[1], argv[2:]
    for r in roles:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", r):
            fail(f"bad role name '{r}'")
    old = read_pgpass(path)
    passwords = {r: old.get(r) or secrets.token_hex(24) for r in roles}
    if passwords != {r: old.get(r) for r in roles} or set(old) != set(roles):
        write_pgpass(path, passwords)
    for r in roles:
        print(f"alter role {r} password '{scram_verifier(passwords[r])}';")


if __name__ == "__main__":
    main(sys.argv)
