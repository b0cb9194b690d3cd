#!/usr/bin/env python3
"""Record Glance's visibility matrix: who may do what to an image of each
visibility, as a real Glance answers it.

Identities (keystone-middleware headers, as ../shared/conformance describes):
admin, the owner with the member role, the owner with the reader role only,
an unrelated project, and member projects whose membership is pending,
accepted and rejected. Visibilities: public, private, shared, community.
Operations: show, list (default listing, and ?visibility=V), download,
patch, delete, add member, set member status.

Every image is created by the owner as `shared`, gets 16 bytes of data and
the three members (then set to their statuses by the members), and is then
given its visibility by admin, so that memberships outlive the change as in
a real cloud. Read-only operations share one image per visibility;
each write (patch, delete, add member, set member status) gets a fresh one.

Usage:
    ../shared/real-glance/start 9402
    scripts/record-visibility-matrix.py --target http://127.0.0.1:9402 \
        > glance-mock-server/tests/data/visibility-matrix.json
    kill $(cat /tmp/glance-ref-9402/gunicorn.pid)

The Rust test glance-mock-server/tests/visibility_matrix.rs repeats the same
steps against the mock and compares every cell.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request

IDENTITIES = {
    "admin": ("admin,member,reader", "vm-admin-project"),
    "owner": ("member,reader", "vm-owner-project"),
    "owner-reader": ("reader", "vm-owner-project"),
    "unrelated": ("member,reader", "vm-unrelated-project"),
    "member-pending": ("member,reader", "vm-pending-project"),
    "member-accepted": ("member,reader", "vm-accepted-project"),
    "member-rejected": ("member,reader", "vm-rejected-project"),
}
VISIBILITIES = ["public", "private", "shared", "community"]
READS = ["show", "list", "list-visibility", "download"]
WRITES = ["patch", "delete", "add-member", "set-member-status"]
MEMBERS = {"member-pending": "pending", "member-accepted": "accepted", "member-rejected": "rejected"}
DATA = b"visibility-matrix"


class Api:
    def __init__(self, target):
        self.target = target.rstrip("/")

    def call(self, who, method, path, body=None, ctype="application/json"):
        roles, project = IDENTITIES[who]
        headers = {
            "X-Identity-Status": "Confirmed",
            "X-Roles": roles,
            "X-Project-Id": project,
            "X-User-Id": f"{who}-user",
            "X-Auth-Token": "matrix",
            "Accept": "application/json",
        }
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = ctype
        req = urllib.request.Request(self.target + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def must(self, expected, *args, **kwargs):
        status, body = self.call(*args, **kwargs)
        if status != expected:
            sys.exit(f"setup step {args[:3]} answered {status}: {body[:300]!r}")
        return json.loads(body) if body else None


def image(api, visibility):
    """A fresh image of `visibility`, with data and the three members."""
    img = api.must(201, "owner", "POST", "/v2/images",
                   {"name": "vm", "visibility": "shared", "disk_format": "raw", "container_format": "bare"})
    iid = img["id"]
    api.must(204, "owner", "PUT", f"/v2/images/{iid}/file", DATA, "application/octet-stream")
    for who, status in MEMBERS.items():
        project = IDENTITIES[who][1]
        api.must(200, "owner", "POST", f"/v2/images/{iid}/members", {"member": project})
        if status != "pending":
            api.must(200, who, "PUT", f"/v2/images/{iid}/members/{project}", {"status": status})
    if visibility != "shared":
        api.must(200, "admin", "PATCH", f"/v2/images/{iid}",
                 [{"op": "replace", "path": "/visibility", "value": visibility}],
                 "application/openstack-images-v2.1-json-patch")
    return iid


def listed(api, who, iid, query):
    """Status of a listing (all pages), and whether it holds `iid`."""
    path = f"/v2/images?limit=1000{query}"
    found = False
    while path:
        status, body = api.call(who, "GET", path)
        if status != 200:
            return status, None
        page = json.loads(body)
        found = found or any(i["id"] == iid for i in page["images"])
        path = page.get("next")
    return 200, found


def operate(api, who, op, iid, visibility):
    project = IDENTITIES[who][1]
    if op == "show":
        return api.call(who, "GET", f"/v2/images/{iid}")[0], None
    if op == "list":
        return listed(api, who, iid, "")
    if op == "list-visibility":
        return listed(api, who, iid, f"&visibility={visibility}")
    if op == "download":
        status, body = api.call(who, "GET", f"/v2/images/{iid}/file")
        return status, (body == DATA) if status == 200 else None
    if op == "patch":
        return api.call(who, "PATCH", f"/v2/images/{iid}",
                        [{"op": "replace", "path": "/name", "value": "renamed"}],
                        "application/openstack-images-v2.1-json-patch")[0], None
    if op == "delete":
        return api.call(who, "DELETE", f"/v2/images/{iid}")[0], None
    if op == "add-member":
        return api.call(who, "POST", f"/v2/images/{iid}/members", {"member": "vm-newcomer-project"})[0], None
    if op == "set-member-status":
        return api.call(who, "PUT", f"/v2/images/{iid}/members/{project}", {"status": "accepted"})[0], None
    raise ValueError(op)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--target", default="http://127.0.0.1:9402")
    args = p.parse_args()
    api = Api(args.target)
    cells = []
    for visibility in VISIBILITIES:
        shared_image = image(api, visibility)
        for who in IDENTITIES:
            for op in READS:
                status, seen = operate(api, who, op, shared_image, visibility)
                cells.append({"visibility": visibility, "identity": who, "operation": op,
                              "status": status, "seen": seen})
        for who in IDENTITIES:
            for op in WRITES:
                status, seen = operate(api, who, op, image(api, visibility), visibility)
                cells.append({"visibility": visibility, "identity": who, "operation": op,
                              "status": status, "seen": seen})
    out = {
        "recorded_with": "OpenStack Glance 33.0.0 (../shared/real-glance/start), scripts/record-visibility-matrix.py",
        "identities": {k: {"roles": r, "project": p} for k, (r, p) in IDENTITIES.items()},
        "data": DATA.decode(),
        "cells": cells,
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
