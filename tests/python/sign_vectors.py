"""Signs test vectors with the official Tencent Cloud Python SDK.

Reads a JSON list of vectors on stdin and writes, for each, the request the
SDK builds: its headers (Authorization included), its body and, for GET, its
query string. The SDK builds every request itself, through
`AbstractClient._build_req_inter`, the method its `call_json` and
`call_octet_stream` use before sending; nothing here re-implements signing.
Only two things are fixed from outside:

- the clock: `time.time` as the SDK module sees it returns the vector's
  timestamp;
- for a "json_body" vector, the JSON text: the SDK's `json.dumps` returns the
  exact body the Rust side built, so that the SDK signs the same bytes.

A vector is an object with:
  secret_id, secret_key, token (or null), timestamp (int),
  service, version, action, region (or null), language (or null),
  host (the SDK's endpoint: the Host it signs and sends),
  method ("POST" or "GET"), unsigned_payload (bool),
  sign_method (optional: "TC3-HMAC-SHA256", the default, "HmacSHA256" or
  "HmacSHA1", ClientProfile(signMethod=...)),
  and exactly one of:
    params       a JSON object the SDK serializes itself (json.dumps, or the
                 query string for GET); with "get_query" beside it, a GET
                 whose query string the SDK's `urlencode` returns as given
                 (the exact query the Rust side built), so that the SDK signs
                 the same query;
    json_body    a JSON text the SDK sends as its application/json body;
    octet_hex    bytes, in hex, sent as application/octet-stream.

Output: a JSON list of {"headers": {...}, "body_hex": "...", "query": "..."}.
"""

import json
import sys
import types
from unittest import mock

from tencentcloud.common import abstract_client, credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile


def build(vector):
    http_profile = HttpProfile(endpoint=vector["host"], reqMethod=vector["method"])
    profile = ClientProfile(signMethod=vector.get("sign_method"), httpProfile=http_profile)
    # The SDK defaults to zh-CN; None sends no X-TC-Language at all.
    profile.language = vector["language"]
    profile.unsignedPayload = vector["unsigned_payload"]
    cred = credential.Credential(vector["secret_id"], vector["secret_key"], vector["token"])
    # An empty region sends no X-TC-Region, as for the SDK's global actions.
    client = CommonClient(vector["service"], vector["version"], cred, vector["region"] or "", profile)

    request = RequestInternal(client._get_endpoint(), vector["method"], client._requestPath, header={})
    options = {}
    patches = [
        mock.patch.object(abstract_client, "time", types.SimpleNamespace(time=lambda: vector["timestamp"])),
    ]
    if "params" in vector:
        params = vector["params"]
        if "get_query" in vector:
            query = vector["get_query"]
            patches.append(mock.patch.object(abstract_client, "urlencode", lambda _: query))
    elif "json_body" in vector:
        params = {}
        body = vector["json_body"]
        patches.append(mock.patch.object(abstract_client, "json", types.SimpleNamespace(dumps=lambda _: body)))
    elif "octet_hex" in vector:
        # As call_octet_stream does.
        params = None
        request.data = bytes.fromhex(vector["octet_hex"])
        options["IsOctetStream"] = True
    else:
        raise ValueError("vector has no params, json_body or octet_hex")

    for patch in patches:
        patch.start()
    try:
        client._build_req_inter(vector["action"], params, request, options)
    finally:
        for patch in patches:
            patch.stop()

    if vector["method"] == "GET":
        # The SDK sends GET parameters as the URL's query: `data` is the query.
        query, body = request.data, b""
    else:
        query, body = "", request.data
    if isinstance(body, str):
        body = body.encode("utf-8")
    return {"headers": request.header, "body_hex": body.hex(), "query": query}


def main():
    vectors = json.load(sys.stdin)
    json.dump([build(vector) for vector in vectors], sys.stdout)


if __name__ == "__main__":
    main()
