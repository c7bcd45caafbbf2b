#!/usr/bin/env python3
"""Write a legacy `docker save` archive whose one uncompressed layer holds N
empty files (100 a directory) plus a setuid-root /usr/bin/su and
/etc/passwd, with manifest.json last (the order is known only at the end).

    bench/make_entries.py N OUT.tar

Deterministic: fixed mtimes, owners and names, so two runs write the same bytes.
"""
import hashlib, io, json, sys, tarfile

def info(name, kind=tarfile.REGTYPE, mode=0o644, size=0):
    t = tarfile.TarInfo(name)
    t.type, t.mode, t.size, t.mtime, t.uid, t.gid = kind, mode, size, 0, 0, 0
    t.uname = t.gname = ""
    return t

def layer(n):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        passwd = b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
        for d in ("etc", "usr", "usr/bin", "data"):
            t.addfile(info(d, tarfile.DIRTYPE, 0o755))
        t.addfile(info("etc/passwd", size=len(passwd)), io.BytesIO(passwd))
        t.addfile(info("usr/bin/su", mode=0o4755))
        for i in range(n):
            if i % 100 == 0:
                t.addfile(info("data/d%05d" % (i // 100), tarfile.DIRTYPE, 0o755))
            t.addfile(info("data/d%05d/f%07d" % (i // 100, i)))
    return buf.getvalue()

def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    blob = layer(n)
    diff_id = hashlib.sha256(blob).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"User": "app"},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
        "history": [{"created_by": "bench/make_entries.py %d" % n}],
    }).encode()
    config_id = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": config_id + ".json", "RepoTags": ["bench/entries:%d" % n],
                            "Layers": [diff_id + "/layer.tar"]}]).encode()
    with tarfile.open(out, mode="w", format=tarfile.USTAR_FORMAT) as t:
        t.addfile(info(diff_id, tarfile.DIRTYPE, 0o755))
        t.addfile(info(diff_id + "/layer.tar", size=len(blob)), io.BytesIO(blob))
        t.addfile(info(config_id + ".json", size=len(config)), io.BytesIO(config))
        t.addfile(info("manifest.json", size=len(manifest)), io.BytesIO(manifest))

main()
