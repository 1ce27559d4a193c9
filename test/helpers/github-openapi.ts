/**
 * GitHub's published OpenAPI description (from @octokit/openapi) as a request
 * and response checker for the GitHub stand-in, so the stand-in cannot accept
 * a request the real API would reject or ignore, nor answer in a shape the real
 * API never sends.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import * as ajvFormats from 'ajv-formats';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface Operation {
  operationId: string;
  method: string;
  template: string;
  params: Record<string, string>;
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: JsonObject;
}

interface Route {
  template: string;
  regex: RegExp;
  names: string[];
  literals: number;
  item: JsonObject;
}

// The description is OpenAPI 3.0; its components are addressed from inline schemas under this id.
const ROOT = 'github';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
// Keywords whose values are data, not schemas: copied as they are.
const DATA_KEYWORDS = new Set(['example', 'examples', 'default', 'enum', 'const']);

/**
 * OpenAPI 3.0 schema → JSON Schema: `nullable: true` becomes a null type (enum gains null too,
 * which Ajv's own `nullable` support neither does nor allows without `type`), and local
 * `$ref`s point into the components registered under ROOT.
 */
function toJsonSchema(node: Json, inProperties = false): Json {
  if (Array.isArray(node)) return node.map((n) => toJsonSchema(n));
  if (node === null || typeof node !== 'object') return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (inProperties) out[key] = toJsonSchema(value);
    else if (key === 'nullable') continue;
    else if (key === '$ref' && typeof value === 'string' && value.startsWith('#/')) out[key] = ROOT + value;
    else if (DATA_KEYWORDS.has(key)) out[key] = value;
    else out[key] = toJsonSchema(value, key === 'properties' || key === 'patternProperties');
  }
  if (inProperties || node.nullable !== true) return out;
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [{ type: 'null' }, out] };
}

/** Path and query values arrive as strings; give them the type their schema declares. */
function coerce(value: string, schema: JsonObject | undefined): Json {
  const type = schema?.type;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

export class GitHubOpenApi {
  private readonly doc: JsonObject;
  private readonly ajv: Ajv;
  private readonly routes: Route[];
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly docs = new Map<string, string>();

  constructor(doc: JsonObject) {
    this.doc = doc;
    this.ajv = new Ajv({ strict: false, allErrors: true, logger: false });
    // ajv-formats is CommonJS: under NodeNext its plugin function is the namespace's default.
    const formats = ajvFormats as unknown as { default: (ajv: Ajv) => Ajv };
    formats.default(this.ajv);
    // Examples are most of the description's bulk and no schema refers to them: leave them out.
    const { examples: _examples, ...components } = doc.components as JsonObject;
    this.ajv.addSchema({ $id: ROOT, components: toJsonSchema(components) } as JsonObject);
    this.routes = Object.entries(doc.paths as Record<string, JsonObject>).map(([template, item]) => {
      const names: string[] = [];
      const pattern = template
        .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
        .replace(/\{([^}]+)\}/g, (_m, name: string) => {
          names.push(name);
          return '([^/]+)';
        });
      const literals = template.split('/').filter((s) => s && !s.startsWith('{')).length;
      for (const op of Object.values(item) as JsonObject[]) {
        const docs = (op.externalDocs as JsonObject | undefined)?.url;
        if (typeof op.operationId === 'string' && typeof docs === 'string')
          this.docs.set(op.operationId, docs);
      }
      return { template, regex: new RegExp(`^${pattern}$`), names, literals, item };
    });
  }

  /** The operation a request lands on; when several templates match, the most literal one wins (as GitHub routes). */
  match(method: string, path: string): Operation | undefined {
    let route: Route | undefined;
    let values: string[] = [];
    for (const candidate of this.routes) {
      const m = candidate.regex.exec(path);
      if (m && (!route || candidate.literals > route.literals)) [route, values] = [candidate, m.slice(1)];
    }
    const verb = method.toLowerCase();
    const op = HTTP_METHODS.includes(verb) ? (route?.item[verb] as JsonObject | undefined) : undefined;
    if (!route || !op) return undefined;
    const params = Object.fromEntries(
      route.names.map((name, i) => [name, decodeURIComponent(values[i] ?? '')]),
    );
    return { operationId: String(op.operationId), method: verb, template: route.template, params };
  }

  /** Problems with a request, each a sentence; empty when the real API would take it as meant. */
  checkRequest(op: Operation, query: Record<string, string>, body: unknown): string[] {
    const problems: string[] = [];
    const params = this.parameters(op);
    for (const where of ['path', 'query'] as const) {
      const given = where === 'path' ? op.params : query;
      const declared = params.filter((p) => p.in === where);
      for (const name of Object.keys(given)) {
        // GitHub ignores unknown query parameters silently, which hides a misspelt filter: flag it.
        if (!declared.some((p) => p.name === name)) problems.push(`unknown ${where} parameter '${name}'`);
      }
      for (const p of declared) {
        const raw = given[p.name];
        if (raw === undefined) {
          if (p.required) problems.push(`missing required ${where} parameter '${p.name}'`);
          continue;
        }
        const schema = this.resolve(p.schema);
        const validate = this.validator(`${op.operationId} ${where} ${p.name}`, p.schema ?? {});
        if (!validate(coerce(raw, schema))) {
          problems.push(this.describe(validate.errors, `${where}.${p.name}`));
        }
      }
    }
    problems.push(...this.checkBody(op, body));
    return problems;
  }

  /** Problems with a response the stand-in is about to send; statuses the description does not list pass. */
  checkResponse(op: Operation, status: number, body: unknown): string[] {
    const responses = this.operation(op).responses as JsonObject | undefined;
    const response = this.resolve(responses?.[String(status)] as JsonObject | undefined);
    const content = response?.content as JsonObject | undefined;
    const schema = (content?.['application/json'] as JsonObject | undefined)?.schema as
      JsonObject | undefined;
    if (!schema) return [];
    const validate = this.validator(`${op.operationId} response ${status}`, schema);
    return validate(body) ? [] : [this.describe(validate.errors, `response ${status}`)];
  }

  /** The documentation page GitHub names in its error bodies for an operation. */
  docsUrl(operationId: string): string {
    return this.docs.get(operationId) ?? 'https://docs.github.com/rest';
  }

  /** A copy of one of the description's own examples, used as a template for large objects. */
  example(name: string): JsonObject {
    const examples = (this.doc.components as JsonObject).examples as Record<string, JsonObject>;
    const value = examples[name]?.value;
    if (!value || typeof value !== 'object') {
      throw new Error(`no example '${name}' in the GitHub description`);
    }
    return structuredClone(value) as JsonObject;
  }

  private checkBody(op: Operation, body: unknown): string[] {
    const requestBody = this.resolve(this.operation(op).requestBody as JsonObject | undefined);
    const content = requestBody?.content as JsonObject | undefined;
    const schema = (content?.['application/json'] as JsonObject | undefined)?.schema as
      JsonObject | undefined;
    if (body === undefined) return requestBody?.required ? ['missing required JSON body'] : [];
    if (!schema) return [`${op.operationId} takes no JSON body`];
    const problems: string[] = [];
    const top = this.resolve(schema) ?? {};
    const properties = top.properties as JsonObject | undefined;
    if (properties && top.additionalProperties === undefined && isObject(body)) {
      // Same reason as for query parameters: the real API drops unknown fields without a word.
      const unknown = Object.keys(body).filter((key) => !(key in properties));
      problems.push(...unknown.map((key) => `unknown body property '${key}'`));
    }
    const validate = this.validator(`${op.operationId} body`, schema);
    if (!validate(body)) problems.push(this.describe(validate.errors, 'body'));
    return problems;
  }

  private operation(op: Operation): JsonObject {
    return ((this.doc.paths as Record<string, JsonObject>)[op.template]![op.method] ?? {}) as JsonObject;
  }

  private parameters(op: Operation): Parameter[] {
    const item = (this.doc.paths as Record<string, JsonObject>)[op.template]!;
    const all = [
      ...((item.parameters as Json[]) ?? []),
      ...((this.operation(op).parameters as Json[]) ?? []),
    ];
    return all.map((p) => this.resolve(p as JsonObject) as unknown as Parameter);
  }

  /** Follows a `#/components/...` reference, once or repeatedly, to the object it names. */
  private resolve(node: JsonObject | undefined): JsonObject | undefined {
    let current = node;
    while (current && typeof current.$ref === 'string') {
      current = current.$ref
        .slice(2)
        .split('/')
        .reduce<Json>((at, key) => (at as JsonObject)[key]!, this.doc) as JsonObject;
    }
    return current;
  }

  private validator(key: string, schema: JsonObject): ValidateFunction {
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(schema) as JsonObject);
      this.compiled.set(key, validate);
    }
    return validate;
  }

  private describe(errors: ErrorObject[] | null | undefined, where: string): string {
    return this.ajv.errorsText(errors?.slice(0, 5), { dataVar: where });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

let loaded: GitHubOpenApi | undefined;

/** The api.github.com description, parsed and prepared once per test process (~13 MB of JSON). */
export function githubOpenApi(): GitHubOpenApi {
  if (!loaded) {
    const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
    loaded = new GitHubOpenApi(JSON.parse(readFileSync(file, 'utf8')) as JsonObject);
  }
  return loaded;
}
