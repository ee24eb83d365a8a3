// Runs VS Code's JSON language service (the engine behind VS Code's JSON editing) against a schema.
// Usage: node tests/editor/json_ls.mjs SCHEMA.json CASES.json [WORKSPACE]
// With WORKSPACE, schemas come from its .vscode/settings.json "json.schemas", resolved as VS Code's JSON
// extension does (a "./" url against the workspace folder, fileMatch scoped to it), and a case's optional
// "path" names its document inside WORKSPACE.
// CASES is a list of {"id", "text", "offset"}: completion labels (and each item's insertText) are reported
// at `offset` (when not null) and the diagnostics for the whole text always.
// Prints {"<id>": {"completions": [...], "insertTexts": {label: text}, "diagnostics": [...]}}.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { getLanguageService } from "vscode-json-languageservice";
import { TextDocument } from "vscode-languageserver-textdocument";

const [schemaPath, casesPath, workspace] = process.argv.slice(2);
if (!schemaPath || !casesPath) {
  console.error("usage: node json_ls.mjs SCHEMA.json CASES.json");
  process.exit(2);
}
const schemaUri = pathToFileURL(schemaPath).href;
// Cases open as if they were files in a `configs/` folder next to the schema's folder, so a relative
// "$schema": "../schemas/<file>" in a case resolves the way it would in a checkout.
const configsDir = join(dirname(schemaPath), "..", "configs");

const service = getLanguageService({
  // VS Code fetches the schema by URI; serve it from disk the same way.
  schemaRequestService: async (uri) => {
    if (uri === schemaUri) return readFileSync(schemaPath, "utf8");
    if (workspace && uri.startsWith(pathToFileURL(workspace).href)) return readFileSync(new URL(uri), "utf8");
    throw new Error(`unexpected schema request: ${uri}`);
  },
  // As VS Code does: a relative "$schema" is resolved against the document's URI.
  workspaceContext: { resolveRelativePath: (relative, resource) => new URL(relative, resource).href },
});
function settingsSchemas(folder) {
  const folderUri = pathToFileURL(folder).href + "/";
  const settings = JSON.parse(readFileSync(join(folder, ".vscode", "settings.json"), "utf8"));
  return (settings["json.schemas"] ?? []).map((entry) => ({
    uri: entry.url.startsWith(".") ? new URL(entry.url, folderUri).href : entry.url,
    fileMatch: entry.fileMatch,
    folderUri,
  }));
}

const schemas = workspace ? settingsSchemas(workspace) : [{ uri: schemaUri, fileMatch: ["*.json"] }];
service.configure({ validate: true, allowComments: false, schemas });

async function run(testCase) {
  const path = testCase.path ? join(workspace, testCase.path) : join(configsDir, `${testCase.id}.json`);
  const uri = pathToFileURL(path).href;
  const document = TextDocument.create(uri, "json", 1, testCase.text);
  const jsonDocument = service.parseJSONDocument(document);
  const result = { completions: [], insertTexts: {}, diagnostics: [] };
  if (testCase.offset !== undefined && testCase.offset !== null) {
    const list = await service.doComplete(document, document.positionAt(testCase.offset), jsonDocument);
    const items = list ? list.items : [];
    result.completions = items.map((item) => item.label);
    for (const item of items) result.insertTexts[item.label] = item.insertText ?? item.label;
  }
  const diagnostics = await service.doValidation(document, jsonDocument, { schemaValidation: "error" });
  result.diagnostics = diagnostics.map((d) => ({
    message: d.message,
    offset: document.offsetAt(d.range.start),
    text: document.getText(d.range),
  }));
  return result;
}

const cases = JSON.parse(readFileSync(casesPath, "utf8"));
const out = {};
for (const testCase of cases) out[testCase.id] = await run(testCase);
process.stdout.write(JSON.stringify(out, null, 2) + "\n");
