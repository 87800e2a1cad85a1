// The Node.js function that `go run ./scripts/loadtest -node` measures beside
// ccc-enricher: the same job as its cdr push path, in plain Node (no
// framework). POST /push?action=cdr&version=1 with Basic auth; the body is
// validated, DescribeSessionDetail is called through
// tencentcloud-sdk-nodejs-common's CommonClient, and the record (the push,
// the detail and a few metrics) is POSTed to the webhook signed as Standard
// Webhooks. GET /healthz answers 200. Configuration comes from the
// environment the harness sets; it is not part of ccc-enricher.
"use strict";

const http = require("http");
const crypto = require("crypto");
const { CommonClient } = require("tencentcloud-sdk-nodejs-common");

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`nodefn: ${name} is required`);
    process.exit(2);
  }
  return v;
};

const port = Number(env("PORT"));
const wantAuth = "Basic " + Buffer.from(`${env("PUSH_BASIC_USERNAME")}:${env("PUSH_BASIC_PASSWORD")}`).toString("base64");
const appIds = new Set(env("CCC_SDK_APP_IDS").split(",").map((s) => Number(s.trim())));
const webhook = new URL(env("WEBHOOK_URL"));
const webhookKey = Buffer.from(env("WEBHOOK_SECRET").replace(/^whsec_/, ""), "base64");

// The SDK derives the TC3 service from the endpoint's first label and
// signs the host name without its port, so the endpoint keeps CCC's own
// name, over http, and its connections go to the emulator's address.
const [cccHost, cccPort] = env("CCC_ADDR").split(":");
const keepAlive = { keepAlive: true, maxSockets: 32 };
class EmulatorAgent extends http.Agent {
  createConnection(options, cb) {
    return super.createConnection({ ...options, host: cccHost, port: Number(cccPort) }, cb);
  }
}
const cccAgent = new EmulatorAgent(keepAlive);
const hookAgent = new http.Agent(keepAlive);
const ccc = new CommonClient("ccc.tencentcloudapi.com", "2020-02-10", {
  credential: { secretId: env("TENCENTCLOUD_SECRET_ID"), secretKey: env("TENCENTCLOUD_SECRET_KEY") },
  region: "ap-guangzhou",
  profile: {
    httpProfile: { protocol: "http://", reqTimeout: 10, agent: cccAgent },
  },
});

const reply = (res, status, code, msg) => {
  const body = JSON.stringify({ ErrCode: code, ErrMsg: msg });
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
};

const isInt = (v) => Number.isSafeInteger(v) && v >= 0;

// validate returns an error message for a cdr push body, or "".
function validate(p) {
  if (p === null || typeof p !== "object" || Array.isArray(p)) return "body is not a JSON object";
  if (!isInt(p.SdkAppId) || !appIds.has(p.SdkAppId)) return "SdkAppId not accepted";
  if (typeof p.SessionId !== "string" || p.SessionId === "" || p.SessionId.length > 128) return "SessionId is required";
  if (!isInt(p.StartTimestamp) || !isInt(p.EndedTimestamp) || p.StartTimestamp > p.EndedTimestamp) return "bad timestamps";
  return "";
}

function metrics(p, d) {
  const span = (a, b) => (a > 0 && b >= a ? b - a : 0);
  return {
    durationSeconds: span(p.AcceptTimestamp, p.EndedTimestamp),
    ringSeconds: span(p.RingTimestamp, p.AcceptTimestamp),
    queueSeconds: span(p.QueuedTimestamp, p.AcceptTimestamp),
    totalSeconds: span(p.StartTimestamp, p.EndedTimestamp),
    participants: Array.isArray(p.ServeParticipants) ? p.ServeParticipants.length : 0,
    answered: (d && d.AcceptTimestamp > 0) || false,
  };
}

function deliver(body) {
  const id = "msg_" + crypto.randomBytes(12).toString("hex");
  const ts = Math.floor(Date.now() / 1000).toString();
  const sig = crypto.createHmac("sha256", webhookKey).update(`${id}.${ts}.${body}`).digest("base64");
  return new Promise((resolve, reject) => {
    const req = http.request(
      webhook,
      {
        method: "POST",
        agent: hookAgent,
        timeout: 10000,
        headers: {
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(body),
          "webhook-id": id,
          "webhook-timestamp": ts,
          "webhook-signature": `v1,${sig}`,
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => (res.statusCode >= 200 && res.statusCode < 300 ? resolve() : reject(new Error(`webhook answered ${res.statusCode}`))));
      },
    );
    req.on("timeout", () => req.destroy(new Error("webhook timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

async function push(req, res, raw) {
  let p;
  try {
    p = JSON.parse(raw);
  } catch {
    return reply(res, 400, 400, "body is not JSON");
  }
  const bad = validate(p);
  if (bad) return reply(res, 400, 400, bad);
  const start = Date.now();
  let detail;
  try {
    detail = await ccc.request("DescribeSessionDetail", {
      SdkAppId: p.SdkAppId,
      SessionId: p.SessionId,
      StartTimestamp: p.StartTimestamp,
      EndTimestamp: p.EndedTimestamp,
    });
  } catch (e) {
    console.error(JSON.stringify({ level: "error", msg: "describe session", sessionId: p.SessionId, code: e.code || "" }));
    return reply(res, 503, 503, "CCC unavailable");
  }
  const record = {
    id: `cdr-${p.SdkAppId}-${p.SessionId}`,
    schemaVersion: 1,
    sdkAppId: p.SdkAppId,
    sessionId: p.SessionId,
    completeness: "full",
    push: p,
    detail,
    metrics: metrics(p, detail),
  };
  try {
    await deliver(JSON.stringify(record));
  } catch (e) {
    console.error(JSON.stringify({ level: "error", msg: "deliver", sessionId: p.SessionId, err: e.message }));
    return reply(res, 503, 503, "sink unavailable");
  }
  console.error(JSON.stringify({ level: "info", msg: "delivered", sessionId: p.SessionId, ms: Date.now() - start }));
  reply(res, 200, 0, "ok");
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://fn");
  if (req.method === "GET" && url.pathname === "/healthz") return reply(res, 200, 0, "ok");
  if (url.pathname !== "/push") return reply(res, 404, 404, "not found");
  if (req.method !== "POST") return reply(res, 405, 405, "method not allowed");
  if (url.searchParams.get("action") !== "cdr" || url.searchParams.get("version") !== "1") return reply(res, 400, 400, "unsupported action");
  const auth = Buffer.from(req.headers.authorization || "");
  const want = Buffer.from(wantAuth);
  if (auth.length !== want.length || !crypto.timingSafeEqual(auth, want)) return reply(res, 401, 401, "unauthorized");
  const chunks = [];
  let size = 0;
  req.on("data", (c) => {
    size += c.length;
    if (size > 1 << 20) {
      reply(res, 413, 413, "body too large");
      req.destroy();
    } else chunks.push(c);
  });
  req.on("end", () => {
    if (size <= 1 << 20) push(req, res, Buffer.concat(chunks).toString("utf8")).catch(() => reply(res, 500, 500, "internal error"));
  });
});
server.keepAliveTimeout = 65000;
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
