// Validates Amazon States Language definitions with AWS's own validator, the
// amazon-states-language-service npm package (the language service behind AWS Toolkit's Step
// Functions editor: https://github.com/aws/amazon-states-language-service). Started once per test
// session by tests/constructs/test_asl.py: loading the service and its JSON schema is slow.
//
// Usage: node asl_validate.cjs  (from anywhere: the package is resolved from the repository's
// node_modules, which `npm ci` fills from package.json/package-lock.json)
// Each stdin line: {"id": ..., "definition": "<ASL JSON text>"}.
// Each stdout line: {"id": ..., "diagnostics": [{"severity", "message", "range", "code", "source"}]},
// the service's LSP diagnostics as they are (severity 1 Error, 2 Warning, 3 Information, 4 Hint:
// https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/#diagnosticSeverity),
// or {"id": ..., "error": "..."} if the service itself threw. Both ends are one line of JSON.
'use strict';

const path = require('node:path');
const readline = require('node:readline');

const PACKAGE = 'amazon-states-language-service';
const REPO = path.resolve(__dirname, '..', '..');

let asl;
try {
  asl = require(require.resolve(PACKAGE, { paths: [REPO] }));
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND') {
    process.stderr.write(
      `${PACKAGE} is not installed: run \`npm ci\` in ${REPO} to install the npm packages ` +
        `package.json pins (${error.message.split('\n')[0]})\n`,
    );
    process.exit(3);
  }
  throw error;
}

// The validator as the toolkits use it: getLanguageService wraps vscode-json-languageservice
// with the ASL JSON schema and its own state checks (Next/StartAt targets, unreachable states...).
const service = asl.getLanguageService({});
// Comments and trailing commas are errors: Step Functions takes strict JSON.
const SETTINGS = { comments: 'error', trailingCommas: 'error' };

async function validate(id, definition) {
  const document = asl.TextDocument.create(`file:///definition-${id}.asl.json`, 'asl', 0, definition);
  const diagnostics = await service.doValidation(document, service.parseJSONDocument(document), SETTINGS);
  return diagnostics.map((d) => ({
    severity: d.severity,
    message: d.message,
    range: d.range,
    code: d.code ?? null,
    source: d.source ?? null,
  }));
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let id = null;
    let answer;
    try {
      const request = JSON.parse(line);
      id = request.id;
      if (typeof request.definition !== 'string') throw new TypeError('"definition" must be a string of JSON');
      answer = { id, diagnostics: await validate(id, request.definition) };
    } catch (error) {
      answer = { id, error: String(error && error.stack ? error.stack : error) };
    }
    process.stdout.write(JSON.stringify(answer) + '\n');
  }
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + '\n');
  process.exit(1);
});
