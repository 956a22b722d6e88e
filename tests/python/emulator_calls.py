"""Calls the emulator with the official Tencent Cloud Python SDK.

Reads on stdin a JSON object:
  endpoint     "127.0.0.1:PORT", as HttpProfile(endpoint=...) takes it
  calls        a list of {service, version, action, region, params,
               secret_id, secret_key, sse (bool), and optionally
               method ("POST" or "GET", HttpProfile(reqMethod=...)) and
               sign_method ("TC3-HMAC-SHA256", "HmacSHA256" or "HmacSHA1",
               ClientProfile(signMethod=...))}

and writes a JSON list with, for each call, what the SDK returned:
  {"response": {...}}                       call_json succeeded
  {"events": [{"data": "..."}, ...]}        call_sse succeeded
  {"code", "message", "request_id"}         the SDK raised TencentCloudSDKException

Everything on the wire is the SDK's own doing: CommonClient over plain HTTP.
"""

import json
import sys

from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile


def call(endpoint, spec):
    http_profile = HttpProfile(protocol="http", endpoint=endpoint, reqMethod=spec.get("method", "POST"))
    profile = ClientProfile(signMethod=spec.get("sign_method", "TC3-HMAC-SHA256"), httpProfile=http_profile)
    cred = credential.Credential(spec["secret_id"], spec["secret_key"])
    client = CommonClient(spec["service"], spec["version"], cred, spec["region"], profile)
    try:
        if spec.get("sse"):
            return {"events": list(client.call_sse(spec["action"], spec["params"]))}
        return {"response": client.call_json(spec["action"], spec["params"])["Response"]}
    except TencentCloudSDKException as err:
        return {"code": err.get_code(), "message": err.get_message(), "request_id": err.get_request_id()}


def main():
    job = json.load(sys.stdin)
    json.dump([call(job["endpoint"], spec) for spec in job["calls"]], sys.stdout)


if __name__ == "__main__":
    main()
