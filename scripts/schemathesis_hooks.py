"""schemathesis hooks for scripts/schemathesis.sh: Glance's JSON-patch media
type is JSON, so that PATCH /v2/images/{id} is fuzzed too."""

import json

import schemathesis


@schemathesis.serializer(
    "application/openstack-images-v2.1-json-patch",
    "application/openstack-images-v2.0-json-patch",
)
def json_patch(ctx, value):
    return json.dumps(value).encode()
