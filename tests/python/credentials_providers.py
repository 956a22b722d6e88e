"""The official Python SDK's own credential providers, pointed at the emulator.

Reads a JSON job on stdin:
  metadata     the emulator's ".../latest/meta-data/" URL
  endpoint     "127.0.0.1:PORT", as HttpProfile(endpoint=...) takes it
  secret_id, secret_key   the long-term source credentials of AssumeRole
  role_arn, provider_id, web_identity_token
and writes {"cvm": [id, key, token], "sts": [...], "oidc": [...]}.

The SDK offers no option for either: CVMRoleCredential reads the class
attribute `_role_endpoint`, which is set on the instance here; the STS
providers take an `endpoint` but build `HttpProfile()` themselves, whose
scheme is https, so `HttpProfile` is replaced in the credential module by
one whose default protocol is http.
"""

import json
import sys

from tencentcloud.common import credential
from tencentcloud.common.profile.http_profile import HttpProfile


class PlainHttpProfile(HttpProfile):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("protocol", "http")
        super().__init__(*args, **kwargs)


credential.HttpProfile = PlainHttpProfile


def main():
    job = json.load(sys.stdin)

    cvm = credential.CVMRoleCredential()
    cvm._role_endpoint = job["metadata"] + "cam/security-credentials/"
    cvm_info = cvm.get_credential_info()
    if None in cvm_info:
        raise SystemExit("CVMRoleCredential obtained nothing (it swallows its errors)")

    sts = credential.STSAssumeRoleCredential(
        job["secret_id"],
        job["secret_key"],
        job["role_arn"],
        "python-sdk",
        duration_seconds=3600,
        endpoint=job["endpoint"],
    )
    sts_info = sts.get_credential_info()

    oidc = credential.OIDCRoleArnCredential(
        "ap-shanghai",
        job["provider_id"],
        job["web_identity_token"],
        job["role_arn"],
        "python-sdk-oidc",
        duration_seconds=3600,
        endpoint=job["endpoint"],
    )
    oidc_info = oidc.get_credential_info()

    json.dump(
        {"cvm": list(cvm_info), "sts": list(sts_info), "oidc": list(oidc_info)},
        sys.stdout,
    )


main()
