// Plays the Node.js Lambda runtime for the CDK Provider framework's own functions, unmodified:
// framework.js (onEvent, isComplete, onTimeout) is required from the framework asset folder of the
// synthesized cloud assembly, as Lambda loads it from /var/task. Started once per test session by
// tests/framework/harness.py; nothing of the framework files is changed or stubbed here.
//
// What this process changes is the environment the framework runs in, as Lambda provides it:
// - @aws-sdk/client-lambda and @aws-sdk/client-sfn come from NODE_PATH (Lambda's Node.js runtimes
//   provide SDK v3 on NODE_PATH; https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html);
//   AWS_ENDPOINT_URL (set by harness.py) points them at the harness's Lambda/Step Functions endpoint
//   (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
// - cfn-response.js PUTs the response with https.request({hostname, path, method, headers}): no
//   port, no agent, so https.globalAgent connects to <hostname>:443
//   (https://github.com/aws/aws-cdk/blob/main/packages/aws-cdk-lib/custom-resources/lib/provider-framework/runtime/cfn-response.ts).
//   The global agent is replaced by one whose connections go, over TLS with the hostname as SNI and
//   the harness's self-signed certificate as the only trusted CA, to the harness's local endpoint.
//
// Usage: node driver.cjs <response endpoint port> <CA certificate file>
// Each stdin line: {"id", "code": asset folder, "handler": "framework.onEvent", "env": {...},
// "event": {...}}. Each stdout line: {"id", "ok": true, "result"} or {"id", "ok": false, "error":
// <the runtime's error payload>}, with "logs" (what the function wrote to the console) and
// "connections" (where the response PUTs were headed). Both ends are one line of JSON.
'use strict';

const https = require('node:https');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const tls = require('node:tls');
const util = require('node:util');

const [responsePort, caFile] = process.argv.slice(2);
const ca = fs.readFileSync(caFile);

// The Node.js runtime's error payload for an unhandled error: errorType, errorMessage, trace (the
// stack split in lines), from toRapidResponse in
// https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/blob/main/src/Errors.js.
// Step Functions hands it to a Catch as the Cause (a JSON string) and errorType as the Error.
function toRapidResponse(error) {
  if (util.types.isNativeError(error)) {
    return {
      errorType: error.name?.replaceAll('\x7F', '%7F'),
      errorMessage: error.message?.replaceAll('\x7F', '%7F'),
      trace: error.stack.replaceAll('\x7F', '%7F').split('\n'),
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

let connections = [];

class ResponseAgent extends https.Agent {
  createConnection(options) {
    connections.push({ host: options.host, port: Number(options.port), servername: options.servername });
    return tls.connect({
      ...options,
      host: '127.0.0.1',
      port: Number(responsePort),
      servername: options.servername || options.host,
      ca,
    });
  }
}

// Node.js 19+ gives https.globalAgent keepAlive; https.request reads https.globalAgent per call.
https.globalAgent = new ResponseAgent({ keepAlive: true });

let logs = [];
for (const name of ['log', 'info', 'warn', 'error', 'debug']) {
  console[name] = (...args) => logs.push(util.format(...args));
}

let functionEnv = {};

function useEnvironment(env) {
  for (const key of Object.keys(functionEnv)) delete process.env[key];
  functionEnv = { ...env };
  Object.assign(process.env, functionEnv);
}

function loadHandler(code, handler) {
  const dot = handler.lastIndexOf('.');
  const module = require(path.join(code, handler.slice(0, dot)));
  const fn = module[handler.slice(dot + 1)];
  if (typeof fn !== 'function') throw new Error(`${handler} is not a function of ${code}`);
  return fn;
}

// As the runtime's Runtime.handleOnceNonStreaming does, the handler's promise is followed with
// .then, not awaited
// (https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/blob/main/src/Runtime.js):
// an Error's async stack frames then end with the function's own, as they do in Lambda.
function run(command) {
  useEnvironment(command.env || {});
  const failed = (error) => ({ ok: false, error: toRapidResponse(error) });
  let result;
  try {
    result = loadHandler(command.code, command.handler)(command.event);
  } catch (error) {
    return Promise.resolve(failed(error));
  }
  return Promise.resolve(result).then((value) => ({ ok: true, result: value === undefined ? null : value }), failed);
}

function reply(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

const queue = [];
let busy = false;

// One command at a time, chained with .then (no async function awaits a handler: see run).
function drain() {
  if (busy || queue.length === 0) return;
  busy = true;
  const command = queue.shift();
  logs = [];
  connections = [];
  run(command).then((outcome) => {
    reply({ id: command.id, ...outcome, logs, connections });
    busy = false;
    drain();
  });
}

// The SDK packages' versions as NODE_PATH resolves them (null: not found), for the harness to check
// against package.json's pins before anything runs.
function installedVersion(name) {
  let directory;
  try {
    directory = path.dirname(require.resolve(name, { paths: [path.parse(__dirname).root] }));
  } catch {
    return null;
  }
  for (; directory !== path.dirname(directory); directory = path.dirname(directory)) {
    const manifest = path.join(directory, 'package.json');
    if (fs.existsSync(manifest)) {
      const found = JSON.parse(fs.readFileSync(manifest, 'utf8'));
      if (found.name === name) return found.version;
    }
  }
  return null;
}

const sdk = Object.fromEntries(['@aws-sdk/client-lambda', '@aws-sdk/client-sfn'].map((n) => [n, installedVersion(n)]));
reply({ ready: true, node: process.version, sdk });

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  if (!line.trim()) return;
  queue.push(JSON.parse(line));
  drain();
});
