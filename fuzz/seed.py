#!/usr/bin/env python3
"""Build the fuzz seed corpus from the image fixtures (scripts/fuzz.sh seed).

usage: seed.py FIXTURES_DIR CORPUS_DIR

Writes CORPUS_DIR/<target>/seed-* (small: committed) and big-* (prefixes of
large fixtures: regenerated, not committed; see fuzz/.gitignore).
"""

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

SMALL = 64 << 10  # fixtures up to this size are used whole
PREFIX = 256 << 10  # of larger ones, the first 256 KiB
BLOCK = 512


def write(corpus, target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def short(data):
    return hashlib.sha256(data).hexdigest()[:12]


def decompress(data):
    """Layer/archive bytes, gzip or zstd undone; None when it fails."""
    try:
        if data[:2] == b"\x1f\x8b":
            return gzip.decompress(data)
        if data[:4] == b"\x28\xb5\x2f\xfd":
            return subprocess.run(
                ["zstd", "-dcq"], input=data, capture_output=True, check=True
            ).stdout
    except Exception:
        return None
    return data


def members(tar_bytes):
    """(TarInfo, bytes) of every regular file; empty on any error."""
    out = []
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as t:
            for m in t:
                if m.isreg():
                    f = t.extractfile(m)
                    out.append((m, f.read() if f else b""))
                elif m.pax_headers or m.issym() or m.islnk():
                    out.append((m, b""))
    except Exception:
        pass
    return out


def main():
    fixtures, corpus = sys.argv[1], sys.argv[2]
    files = []
    for sub in ("public", "built"):
        d = os.path.join(fixtures, sub)
        if os.path.isdir(d):
            files += [os.path.join(d, n) for n in sorted(os.listdir(d))]
    jsons, passwds, groups, users, caps, headers = {}, {}, {}, set(), {}, {}
    for path in files:
        base = os.path.basename(path)
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            raw = f.read()
        # archive: small fixtures whole (and recompressed), large ones' heads.
        if size <= SMALL:
            write(corpus, "archive", "seed-" + base, raw)
            write(corpus, "archive", "seed-" + base + ".gz", gzip.compress(raw, 9, mtime=0))
            zst = subprocess.run(["zstd", "-19", "-cq"], input=raw, capture_output=True)
            if zst.returncode == 0:
                write(corpus, "archive", "seed-" + base + ".zst", zst.stdout)
        else:
            write(corpus, "archive", "big-" + base + ".head", raw[:PREFIX])
        outer = decompress(raw)
        if outer is None:
            continue
        headers["seed-" + base] = outer[: 8 * BLOCK]
        for m, data in members(outer):
            head = data[:1].strip() or data.lstrip()[:1]
            if data and head in (b"{", b"[") and len(data) <= SMALL:
                jsons[short(data)] = data
                try:
                    doc = json.loads(data)
                    if isinstance(doc, dict) and isinstance(doc.get("config"), dict):
                        u = doc["config"].get("User")
                        if isinstance(u, str):
                            users.add(u)
                except Exception:
                    pass
                continue
            layer = decompress(data) if data else None
            if not layer:
                continue
            for lm, ldata in members(layer):
                name = lm.name.lstrip("./")
                if name == "etc/passwd" and ldata:
                    passwds[short(ldata)] = ldata
                elif name == "etc/group" and ldata:
                    groups[short(ldata)] = ldata
                cap = lm.pax_headers.get("SCHILY.xattr.security.capability")
                if cap is not None:
                    v = cap.encode("utf-8", "surrogateescape")
                    caps[short(v)] = v
                if lm.pax_headers and len(headers) < 64:
                    chunk = layer[lm.offset : lm.offset + 4 * BLOCK]
                    headers["seed-pax-" + short(chunk)] = chunk
            headers.setdefault("seed-layer-" + short(layer[:4096]), layer[: 8 * BLOCK])

    for k, v in jsons.items():
        write(corpus, "json", "seed-" + k, v)

    users |= {"", "app", "1000", "1000:1000", "root", "0:0", "nobody:nogroup", "app:staff", ":1"}
    passwd_list = list(passwds.values()) or [b"root:x:0:0:root:/root:/bin/sh\n"]
    group_list = list(groups.values()) or [b"root:x:0:\n"]
    for i, p in enumerate(passwd_list):
        g = group_list[i % len(group_list)]
        for u in sorted(users):
            data = u.encode() + b"\n" + p + b"\0" + g
            write(corpus, "passwd_user", "seed-" + short(data), data)
    write(corpus, "passwd_user", "seed-noconfig", b"\xff\n" + passwd_list[0] + b"\0" + group_list[0])

    rev2_nbs = bytes([1, 0, 0, 2, 0, 4, 0, 0] + [0] * 12)
    rev3 = (0x03000000).to_bytes(4, "little") + (1 << 21).to_bytes(4, "little") + bytes(4) \
        + (1 << 7).to_bytes(4, "little") + bytes(4) + (100000).to_bytes(4, "little")
    rev1 = (0x01000001).to_bytes(4, "little") + (1 << 13).to_bytes(4, "little") + bytes(4)
    for v in [rev1, rev2_nbs, rev3, *caps.values()]:
        write(corpus, "caps", "seed-" + short(v), v)

    for k, v in headers.items():
        write(corpus, "tar_header", k, v)
        # Layer starts also seed the layer summary codec (read as a layer, then encoded).
        write(corpus, "layer_codec", k, v)

    globs = [
        b"/usr/bin/*\0/usr/bin/passwd",
        b"/usr/**\0/usr/bin/passwd",
        b"**/passwd\0/usr/bin/passwd",
        b"/a/**/b*/c\0/a/x/y/bz/c",
        b"/usr/bin/pass??\0/usr/bin/passwd",
        b"*a*a*a*a*a*a*b\0" + b"a" * 200,
        b"**a**a**a**b\0" + b"a/" * 100,
        b"setuid-root:/usr/bin/passwd\n# comment\nshell-present\n",
        b"capability-narrow:/usr/**/ping*\0/usr/bin/ping",
    ]
    for g in globs:
        write(corpus, "glob", "seed-" + short(g), g)

    # Run specs: the compose files and manifests of tests/runs/ (first byte
    # 0 = compose, 1 = Kubernetes), and every --run string of its cases.
    runs_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "runs")
    for name, selector in [("compose.yml", b"\0"), ("manifests.yaml", b"\1")]:
        with open(os.path.join(runs_dir, name), "rb") as f:
            text = f.read()
        write(corpus, "spec_yaml", "seed-" + name, selector + text)
    with open(os.path.join(runs_dir, "cases.json")) as f:
        cases = json.load(f)["cases"]
    for case in cases:
        run = case.get("run")
        if run:
            data = run.encode()
            write(corpus, "docker_run", "seed-" + short(data), data)


if __name__ == "__main__":
    main()
