#!/usr/bin/env python3
"""Write the hand-made inputs of tests/regressions/ (small inputs that reach
deep code in each fuzz target, so the regression test runs something real
even when fuzzing found nothing). Run from the project root:

    python3 fuzz/make_regressions.py tests/regressions
"""

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/regressions"
CAP_NET_BIND = "".join(map(chr, [1, 0, 0, 2, 0, 4, 0, 0] + [0] * 12))


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for e in entries:
            info = tarfile.TarInfo(e["name"])
            info.mtime = 0
            info.mode = e.get("mode", 0o644)
            info.uid = e.get("uid", 0)
            info.gid = e.get("gid", 0)
            info.type = e.get("type", tarfile.REGTYPE)
            info.linkname = e.get("link", "")
            info.pax_headers = e.get("pax", {})
            data = e.get("data", b"")
            info.size = len(data) if info.type == tarfile.REGTYPE else 0
            t.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
    return buf.getvalue()


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def write(name, data):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


# A two-layer image: the lower layer (gzip) has passwd/group, a setuid-root
# su, a file with capabilities (PAX xattr) and a hard link to it; the upper
# one (plain tar) whites one file out and makes a directory opaque.
lower = tar_bytes([
    {"name": "etc", "type": tarfile.DIRTYPE, "mode": 0o755},
    {"name": "etc/passwd", "data": b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n"},
    {"name": "etc/group", "data": b"root:x:0:\napp:x:1000:\nshadow:x:42:app\n"},
    {"name": "bin", "type": tarfile.DIRTYPE, "mode": 0o755},
    {"name": "bin/sh", "mode": 0o755, "data": b"#!/bin/sh\n"},
    {"name": "bin/su", "mode": 0o4755, "data": b"su\n"},
    {"name": "usr/bin/chage", "mode": 0o2755, "gid": 42, "data": b"x"},
    {"name": "usr/sbin/httpd", "mode": 0o755, "data": b"h", "pax": {"SCHILY.xattr.security.capability": CAP_NET_BIND}},
    {"name": "usr/sbin/httpd2", "type": tarfile.LNKTYPE, "link": "usr/sbin/httpd"},
    {"name": "opt/old/file", "mode": 0o4755, "uid": 1000, "data": b"o"},
    {"name": "sbin/ping", "type": tarfile.SYMTYPE, "link": "../bin/su"},
])
upper = tar_bytes([
    {"name": "bin/.wh.su", "data": b""},
    {"name": "opt/old/.wh..wh..opq", "data": b""},
    {"name": "app/run", "mode": 0o755, "uid": 1000, "gid": 1000, "data": b"#!/bin/sh\nexec gosu app x\n"},
])
lower_gz = gzip.compress(lower, 9, mtime=0)
config = json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {"User": "app:shadow", "Entrypoint": ["/app/run"], "Env": ["PUID=1000"],
               "ExposedPorts": {"80/tcp": {}}},
    "rootfs": {"type": "layers", "diff_ids": [digest(lower), digest(upper)]},
    "history": [{"created_by": "ADD rootfs"}, {"created_by": "ENV x", "empty_layer": True},
                {"created_by": "RUN rm /bin/su"}],
}).encode()
cfg_name = hashlib.sha256(config).hexdigest() + ".json"
manifest = json.dumps([{"Config": cfg_name, "RepoTags": ["fuzz/deep:1"],
                        "Layers": ["l1/layer.tar", "l2/layer.tar"]}]).encode()
docker = tar_bytes([
    {"name": cfg_name, "data": config},
    {"name": "l1/layer.tar", "data": lower_gz},
    {"name": "l2/layer.tar", "data": upper},
    {"name": "manifest.json", "data": manifest},
], fmt=tarfile.USTAR_FORMAT)
write("archive-docker-two-layers.tar", docker)
write("archive-docker-two-layers.tar.gz", gzip.compress(docker, 9, mtime=0))
# Cut short inside the second layer, and with a corrupt gzip member.
write("archive-docker-truncated", docker[: len(docker) - 3000])
bad = bytearray(docker)
at = bad.find(lower_gz[:16])
bad[at + 40 : at + 60] = b"\xff" * 20
write("archive-docker-corrupt-layer-gzip", bytes(bad))

# The same image as an OCI layout: index -> manifest -> config + layers.
blobs = {}


def blob(b):
    d = digest(b)
    blobs["blobs/sha256/" + d.split(":")[1]] = b
    return {"digest": d, "size": len(b)}


m = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": dict(blob(config), mediaType="application/vnd.oci.image.config.v1+json"),
    "layers": [dict(blob(lower_gz), mediaType="application/vnd.oci.image.layer.v1.tar+gzip"),
               dict(blob(upper), mediaType="application/vnd.oci.image.layer.v1.tar")],
}).encode()
index = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [dict(blob(m), mediaType="application/vnd.oci.image.manifest.v1+json",
                       platform={"os": "linux", "architecture": "arm64", "variant": "v8"},
                       annotations={"org.opencontainers.image.ref.name": "deep"})],
}).encode()
oci = tar_bytes(
    [{"name": "oci-layout", "data": b'{"imageLayoutVersion":"1.0.0"}'}, {"name": "index.json", "data": index}]
    + [{"name": k, "data": v} for k, v in blobs.items()]
)
write("archive-oci-two-layers.tar", oci)

write("json-oci-index", index)
write("json-oci-manifest", m)
write("json-config", config)
write("json-docker-manifest", manifest)

write("passwd_user-name-and-group",
      b"app:shadow\nroot:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n\0root:x:0:\nshadow:x:42:app\n")
write("passwd_user-numeric-overflow", b"99999999999:4294967296\nroot:x:0:0::/:/bin/sh\n")

rev3 = (0x03000001).to_bytes(4, "little") + (1 << 21).to_bytes(4, "little") + bytes(4) \
    + (0xFFFFFFFF).to_bytes(4, "little") + bytes(4) + (100000).to_bytes(4, "little")
write("caps-rev3-all-high-bits", rev3)
write("caps-rev2-net-bind-service", CAP_NET_BIND.encode("latin-1"))

write("tar_header-pax-capability", lower[:4096])
write("tar_header-gnu-longname", tar_bytes([{"name": "d/" + "x" * 200, "data": b"1"}], fmt=tarfile.GNU_FORMAT)[:2048])

write("glob-star-backtracking", b"*a*a*a*a*a*a*a*a*a*a*b\0" + b"a" * 3000)
write("glob-double-star-backtracking", b"**/a*a*a*a*a*a*/**/b\0" + b"a/" * 1500)
