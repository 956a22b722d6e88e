// Calls the emulator with the official Tencent Cloud Node.js SDK
// (tencentcloud-sdk-nodejs-common), configured as its documentation says:
// the endpoint and the `http://` protocol in the client's httpProfile.
//
// Reads on stdin a JSON object:
//   endpoint   "127.0.0.1:PORT", as httpProfile.endpoint takes it
//   calls      a list of {service, version, action, region, params,
//              secret_id, secret_key, and optionally method ("POST" or
//              "GET", httpProfile.reqMethod), sign_method
//              ("TC3-HMAC-SHA256", "HmacSHA256", "HmacSHA1", the profile's
//              signMethod), sse (bool: the answer is a stream)}
//
// and writes a JSON list with, for each call, what the SDK returned:
//   {"response": {...}}                   the call succeeded
//   {"events": [{"data": "..."}, ...]}    a stream, event by event
//   {"code", "message", "request_id"}     the SDK threw its exception
//
// Everything on the wire is the SDK's own doing.

"use strict";

const { CommonClient } = require("tencentcloud-sdk-nodejs-common");

async function call(endpoint, spec) {
  const client = new CommonClient(`${spec.service}.tencentcloudapi.com`, spec.version, {
    credential: { secretId: spec.secret_id, secretKey: spec.secret_key },
    region: spec.region,
    profile: {
      signMethod: spec.sign_method || "TC3-HMAC-SHA256",
      httpProfile: {
        endpoint,
        protocol: "http://",
        reqMethod: spec.method || "POST",
      },
    },
  });
  try {
    const response = await client.request(spec.action, spec.params);
    if (spec.sse) {
      const events = [];
      for await (const event of response) {
        events.push({ data: event.data });
      }
      return { events };
    }
    return { response };
  } catch (err) {
    return { code: err.code, message: err.message, request_id: err.requestId };
  }
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  const job = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const results = [];
  for (const spec of job.calls) {
    results.push(await call(job.endpoint, spec));
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
