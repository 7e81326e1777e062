import type { TemplateType } from '@switchyard/contracts';
import type { FieldError } from '@switchyard/kernel';
import {
  CaptureTag,
  Context,
  Drop,
  type Emitter,
  type FS,
  Liquid,
  type Template as Parsed,
  Token,
  toValue,
  toValueSync,
} from 'liquidjs';
import { htmlToText } from './text.ts';

/**
 * Rendering with LiquidJS, sandboxed: strict variables and filters, no file system (the include, render
 * and layout tags are gone, and the file system the engine would fall back to refuses every read), own
 * properties only (no `constructor`, no prototype), and bounds on time, memory and output size so a hostile
 * or careless template fails with a reason instead of hanging the process.
 */

/** The bodies of a template, what the renderer needs of a version. */
export interface TemplateBodies {
  type: TemplateType;
  subject: string | null;
  content: string;
  text_content: string | null;
}

export type Part = 'subject' | 'content' | 'text_content';
const PARTS: readonly Part[] = ['subject', 'content', 'text_content'];

export interface RenderLimits {
  /** Wall-clock time one render may take, every part together. Rendering is synchronous: it blocks. */
  timeMs: number;
  /** LiquidJS allocation units: range lengths, and characters built by filters and captures. */
  memory: number;
  /** Characters one part may render to. */
  outputChars: number;
}

export const DEFAULT_LIMITS: RenderLimits = { timeMs: 250, memory: 10_000_000, outputChars: 1_000_000 };

/** At most this many missing variables are named; a template reading more is not worth listing further. */
export const MISSING_REPORTED_MAX = 50;

/** Names that reach JavaScript's machinery rather than data; a template may not even mention them. */
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

type Mode = 'html' | 'json' | 'none';

/** How each part is written: HTML escapes what it outputs, a webhook body inserts JSON values. */
function modeOf(type: TemplateType, part: Part): Mode {
  if (part !== 'content') return 'none';
  if (type === 'email' || type === 'in_app') return 'html';
  return type === 'webhook' ? 'json' : 'none';
}

const NO_FILES: FS = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async (file) => {
    throw new Error(`templates cannot read files (${file})`);
  },
  readFileSync: (file) => {
    throw new Error(`templates cannot read files (${file})`);
  },
  resolve: (_dir, file) => file,
  contains: async () => false,
  containsSync: () => false,
};

/**
 * LiquidJS finds a token's line and column by counting from the start of the source on every call, and its
 * static analysis asks for every variable it sees (and every error for its own): quadratic, seconds for a
 * 100 KB template with ten thousand outputs. The same answer from an index of line starts, built once per
 * source. Installed on the class because tokens are made inside the library.
 */
const LINE_INDEX_MAX = 32;
const lineIndexes = new Map<string, number[]>();

function lineStartsOf(input: string): number[] {
  let starts = lineIndexes.get(input);
  if (!starts) {
    starts = [0];
    for (let at = input.indexOf('\n'); at >= 0; at = input.indexOf('\n', at + 1)) starts.push(at + 1);
    lineIndexes.set(input, starts);
    if (lineIndexes.size > LINE_INDEX_MAX) {
      const oldest = lineIndexes.keys().next();
      if (!oldest.done) lineIndexes.delete(oldest.value);
    }
  }
  return starts;
}

Token.prototype.getPosition = function getPosition(this: Token): number[] {
  const starts = lineStartsOf(this.input);
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if ((starts[middle] ?? 0) <= this.begin) low = middle;
    else high = middle - 1;
  }
  return [low + 1, this.begin - (starts[low] ?? 0) + 1];
};

/** Turns rendered values into text exactly as LiquidJS's own emitters do. */
function stringify(value: unknown): string {
  const plain: unknown = toValue(value);
  if (typeof plain === 'string') return plain;
  if (plain === null || plain === undefined) return '';
  if (Array.isArray(plain)) return plain.map(stringify).join('');
  return String(plain);
}

class OutputLimitError extends Error {
  constructor(limit: number) {
    super(`output limit of ${limit} characters exceeded`);
    this.name = 'OutputLimitError';
  }
}

/** Collects one part's output and stops the render the moment it grows past the limit. */
class BoundedEmitter implements Emitter {
  buffer = '';
  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  write(html: unknown): void {
    const text = stringify(html);
    if (this.buffer.length + text.length > this.limit) throw new OutputLimitError(this.limit);
    this.buffer += text;
  }
}

type Limiter = Context['memoryLimit'];

/** Charges what a capture collects to the render's memory, so doubling a captured string cannot run away. */
class ChargingEmitter implements Emitter {
  buffer = '';
  readonly memory: Limiter;
  constructor(memory: Limiter) {
    this.memory = memory;
  }
  write(html: unknown): void {
    const text = stringify(html);
    this.memory.use(text.length);
    this.buffer += text;
  }
}

/** `{% capture %}` as LiquidJS has it, but writing into a charged buffer instead of an unbounded one. */
class BoundedCaptureTag extends CaptureTag {
  override *render(ctx: Context): Generator<unknown, void, string> {
    const emitter = new ChargingEmitter(ctx.memoryLimit);
    yield this.liquid.renderer.renderTemplates(this.templates, ctx, emitter);
    ctx.bottom()[this.variable] = emitter.buffer;
  }
}

/**
 * A variable the render needed and did not find. Named like LiquidJS's own internal error, which is how
 * `{% if %}` and `| default` recognise a missing variable they may tolerate (lenientIf).
 */
class MissingVariable extends Error {
  readonly variableName: string;
  /** Where it would sit in the variables (`items.0.name`), or null when the template's own is undefined. */
  readonly input: string[] | null;
  constructor(written: string[], input: string[] | null) {
    super(`undefined variable: ${written.join('.')}`);
    this.name = 'InternalUndefinedVariableError';
    this.variableName = written.join('.');
    this.input = input;
  }
}

/** Liquid's built-in properties of a value; a missing `items.size` means `items` is missing. */
const BUILT_IN_PROPERTIES = new Set(['size', 'first', 'last']);

function segmentName(segment: unknown): string {
  return stringify(segment);
}

/**
 * A render context that knows where each value came from in the variables, so a miss inside a loop is
 * named by its input path (`items.0.name`) rather than by the loop variable (`item.name`).
 */
class TrackingContext extends Context {
  origins: WeakMap<object, string[]> = new WeakMap();

  originOf(value: unknown): string[] | null {
    return typeof value === 'object' && value !== null ? (this.origins.get(value) ?? null) : null;
  }

  override *_getFromScope(
    scope: unknown,
    paths: (string | number | Drop)[] | string,
    strictVariables: boolean = this.strictVariables,
  ): IterableIterator<unknown> {
    const keys = typeof paths === 'string' ? paths.split('.') : paths;
    let value: unknown = scope;
    let input: string[] | null =
      scope === this.environments || scope === this.globals ? [] : this.originOf(scope);
    const written: string[] = [];
    for (const [index, key] of keys.entries()) {
      value = yield this.readProperty(value as Context['environments'], key);
      const name = segmentName(key);
      written.push(name);
      if (strictVariables && value === undefined) {
        const rest = keys.slice(index + 1).map(segmentName);
        if (rest.length > 0 && BUILT_IN_PROPERTIES.has(rest.at(-1) ?? '')) rest.pop();
        throw new MissingVariable(written, input === null ? null : [...input, name, ...rest]);
      }
      input = this.originOf(value) ?? (input === null ? null : [...input, name]);
    }
    return value;
  }
}

function engine(mode: Mode, limits: RenderLimits): Liquid {
  const liquid = new Liquid({
    strictVariables: true,
    strictFilters: true,
    // `{% if nickname %}` and `{{ nickname | default: "friend" }}` make a variable optional.
    lenientIf: true,
    ownPropertyOnly: true,
    // One render reports every missing variable, not only the first.
    catchAllErrors: true,
    fs: NO_FILES,
    relativeReference: false,
    dynamicPartials: false,
    root: [],
    partials: [],
    layouts: [],
    // Dates render the same on every instance, whatever the host's zone or language.
    timezoneOffset: 0,
    locale: 'en-US',
    parseLimit: 2 * 100_000,
    memoryLimit: limits.memory,
    renderLimit: limits.timeMs,
    ...(mode === 'html' ? { outputEscape: 'escape' as const } : {}),
    ...(mode === 'json' ? { outputEscape: 'json' as const } : {}),
  });
  for (const tag of ['include', 'render', 'layout', 'block']) delete liquid.tags[tag];
  liquid.registerTag('capture', BoundedCaptureTag);
  return liquid;
}

const engines = new Map<string, Liquid>();
function engineFor(mode: Mode, limits: RenderLimits): Liquid {
  const key = `${mode}:${limits.timeMs}:${limits.memory}`;
  let found = engines.get(key);
  if (!found) {
    found = engine(mode, limits);
    engines.set(key, found);
  }
  return found;
}

/** Parsed versions by id and part. A version's bodies never change, so its parse never goes stale. */
const PARSE_CACHE_MAX = 1000;
const parseCache = new Map<string, Parsed[]>();

export class TemplateSyntaxError extends Error {
  readonly errors: FieldError[];
  constructor(errors: FieldError[]) {
    super(errors.map((error) => `${error.field} ${error.reason}`).join('; '));
    this.name = 'TemplateSyntaxError';
    this.errors = errors;
  }
}

/** `undefined filter: x, line:1, col:4` → `line 1, column 4: undefined filter: x`. */
function located(message: string): string {
  const match = /^([\s\S]*?), line:(\d+), col:(\d+)$/.exec(message.split('\n')[0] ?? message);
  return match ? `line ${match[2]}, column ${match[3]}: ${match[1]}` : message;
}

/** The individual errors inside LiquidJS's LiquidErrors (which nest, one level per block). */
function leaves(error: unknown, into: unknown[] = [], depth = 0): unknown[] {
  const nested = (error as { errors?: unknown }).errors;
  if (depth < 64 && Array.isArray(nested) && nested.length > 0) {
    for (const inner of nested) leaves(inner, into, depth + 1);
  } else into.push(error);
  return into;
}

function causeOf(error: unknown): unknown {
  return (error as { originalError?: unknown }).originalError ?? error;
}

type Failure =
  | { kind: 'missing'; path: string[] }
  | { kind: 'limit'; reason: string }
  | { kind: 'error'; reason: string };

function classify(error: unknown, limits: RenderLimits): Failure {
  const cause = causeOf(error);
  if (cause instanceof MissingVariable) {
    return cause.input
      ? { kind: 'missing', path: cause.input }
      : { kind: 'error', reason: `reads ${cause.variableName}, which is not defined` };
  }
  const message = error instanceof Error ? error.message : String(error);
  const causeMessage = cause instanceof Error ? cause.message : message;
  if (cause instanceof OutputLimitError || /Invalid string length/.test(causeMessage)) {
    return { kind: 'limit', reason: `renders to more than ${limits.outputChars} characters` };
  }
  if (/memory alloc limit exceeded/.test(causeMessage)) {
    return {
      kind: 'limit',
      reason: `needs more than the ${limits.memory} units of memory a render may use (a loop over a huge range, or text built up without bound)`,
    };
  }
  if (/template render limit exceeded/.test(causeMessage)) {
    return { kind: 'limit', reason: `takes longer than the ${limits.timeMs} ms a render may take` };
  }
  if (cause instanceof RangeError && /call stack/.test(causeMessage)) {
    return { kind: 'limit', reason: 'nests too deeply to render' };
  }
  return { kind: 'error', reason: located(message) };
}

/** Deeper nesting than this is refused before parsing: LiquidJS parses and renders blocks recursively. */
export const NESTING_MAX = 50;

const OPENERS = new Set(['if', 'unless', 'for', 'case', 'capture', 'tablerow']);
const VERBATIM = new Set(['raw', 'comment']);

function tagName(body: string): string | undefined {
  let text = body.trimStart();
  if (text.startsWith('-')) text = text.slice(1).trimStart();
  return /^[A-Za-z_]\w*/.exec(text)?.[0];
}

/**
 * How deeply the blocks of `source` nest, found by a scan that is linear in the source (the parser itself
 * takes seconds to overflow its stack on a few thousand levels). It may count too deep inside a comment,
 * never too shallow.
 */
export function nestingDepth(source: string): number {
  let depth = 0;
  let deepest = 0;
  const visit = (name: string | undefined) => {
    if (name === undefined) return;
    if (OPENERS.has(name)) {
      depth += 1;
      deepest = Math.max(deepest, depth);
    } else if (name.startsWith('end') && depth > 0) depth -= 1;
  };
  let index = 0;
  for (;;) {
    const open = source.indexOf('{%', index);
    if (open < 0) break;
    const close = source.indexOf('%}', open + 2);
    if (close < 0) break;
    const body = source.slice(open + 2, close);
    index = close + 2;
    const name = tagName(body);
    if (name !== undefined && VERBATIM.has(name)) {
      const end = source.indexOf(`end${name}`, index);
      if (end < 0) break;
      const after = source.indexOf('%}', end);
      index = after < 0 ? source.length : after + 2;
    } else if (name === 'liquid') {
      // `{% liquid %}` holds one tag per line, without delimiters.
      for (const line of body.trimStart().slice('liquid'.length).split('\n')) visit(tagName(line));
    } else visit(name);
  }
  return deepest;
}

function parse(source: string, mode: Mode, part: Part, limits: RenderLimits, key?: string): Parsed[] {
  const cacheKey = key === undefined ? undefined : `${key}:${part}`;
  if (cacheKey !== undefined) {
    const cached = parseCache.get(cacheKey);
    if (cached) {
      // Refreshed on use: the map's order is its recency.
      parseCache.delete(cacheKey);
      parseCache.set(cacheKey, cached);
      return cached;
    }
  }
  const depth = nestingDepth(source);
  if (depth > NESTING_MAX) {
    throw new TemplateSyntaxError([
      { field: part, in: 'body', reason: `nests blocks ${depth} deep; at most ${NESTING_MAX} are allowed` },
    ]);
  }
  let parsed: Parsed[];
  try {
    parsed = engineFor(mode, limits).parse(source);
  } catch (error) {
    const reasons = [...new Set(leaves(error).map((leaf) => parseReason(leaf)))];
    throw new TemplateSyntaxError(
      reasons
        .slice(0, 5)
        .map((reason) => ({ field: part, in: 'body', reason: `is not a valid template: ${reason}` })),
    );
  }
  if (cacheKey !== undefined) {
    parseCache.set(cacheKey, parsed);
    if (parseCache.size > PARSE_CACHE_MAX) {
      const oldest = parseCache.keys().next();
      if (!oldest.done) parseCache.delete(oldest.value);
    }
  }
  return parsed;
}

function parseReason(error: unknown): string {
  const cause = causeOf(error);
  if (cause instanceof RangeError && /call stack/.test(cause.message)) return 'it nests too deeply';
  const message = error instanceof Error ? error.message : String(error);
  // LiquidJS says "tag include not found"; the reason it is not found is worth saying.
  const tag = /tag "?(include|render|layout|block)"? not found/.exec(message);
  if (tag) return `${located(message)} (templates cannot include files or other templates)`;
  return located(message);
}

interface Compiled {
  part: Part;
  mode: Mode;
  templates: Parsed[];
}

/** Parses every part a version has; throws TemplateSyntaxError naming each part that does not parse. */
function compile(bodies: TemplateBodies, limits: RenderLimits, key?: string): Compiled[] {
  const compiled: Compiled[] = [];
  const errors: FieldError[] = [];
  for (const part of PARTS) {
    const source = bodies[part];
    if (source === null) continue;
    const mode = modeOf(bodies.type, part);
    try {
      compiled.push({ part, mode, templates: parse(source, mode, part, limits, key) });
    } catch (error) {
      if (error instanceof TemplateSyntaxError) errors.push(...error.errors);
      else throw error;
    }
  }
  if (errors.length > 0) throw new TemplateSyntaxError(errors);
  return compiled;
}

type Segment = string | number | Segment[];

function pathOf(segments: readonly Segment[]): string {
  const names: string[] = [];
  for (const segment of segments) {
    // A computed key (`a[key]`) is only known while rendering; the path ends before it.
    if (Array.isArray(segment)) break;
    names.push(String(segment));
  }
  return names.join('.');
}

function mentionsForbidden(segments: readonly Segment[]): string | undefined {
  for (const segment of segments) {
    if (Array.isArray(segment)) {
      const inner = mentionsForbidden(segment);
      if (inner) return inner;
    } else if (typeof segment === 'string' && FORBIDDEN_NAMES.has(segment)) return segment;
  }
  return undefined;
}

/** Every input path the template reads (`user.name`, `items`), in order of first appearance. */
export function templateVariables(bodies: TemplateBodies, key?: string, limits = DEFAULT_LIMITS): string[] {
  const paths = new Set<string>();
  for (const { templates, mode } of compile(bodies, limits, key)) {
    for (const segments of engineFor(mode, limits).globalVariableSegmentsSync(templates)) {
      const path = pathOf(segments);
      if (path !== '') paths.add(path);
    }
  }
  return [...paths];
}

/** Stands in for every variable in the trial render at save time: renders empty, has every property. */
class StandIn extends Drop {
  override liquidMethodMissing(): StandIn {
    return STAND_IN;
  }
  override toString(): string {
    return '';
  }
  toJSON(): null {
    return null;
  }
  // One item, so a loop over a list from the variables runs its body once.
  *[Symbol.iterator](): Iterator<StandIn> {
    yield STAND_IN;
  }
}
const STAND_IN = new StandIn();

function renderPart(
  compiled: Compiled,
  environment: object,
  limits: RenderLimits,
  shared: { renderLimit: Limiter; memoryLimit: Limiter } | undefined,
  deadline: number,
  options: { strict: boolean; origins?: WeakMap<object, string[]> },
): { output: string; context: TrackingContext } {
  const liquid = engineFor(compiled.mode, limits);
  const context = new TrackingContext(
    environment,
    liquid.options,
    {
      sync: true,
      strictVariables: options.strict,
      globals: Object.create(null),
      renderLimit: Math.max(0, deadline - performance.now()),
    },
    { liquid, ...shared },
  );
  if (options.origins) context.origins = options.origins;
  const emitter = new BoundedEmitter(limits.outputChars);
  toValueSync(liquid.renderer.renderTemplates(compiled.templates, context, emitter));
  return { output: emitter.buffer, context };
}

/**
 * What is wrong with a template whatever its variables: parts that do not parse, names that reach
 * JavaScript internals, and limits it breaks with any input (a loop over a huge literal range, an output
 * bomb). Checked by rendering it once with a stand-in for every variable. Empty when it may be saved.
 */
export function checkTemplate(bodies: TemplateBodies, limits = DEFAULT_LIMITS): FieldError[] {
  let compiled: Compiled[];
  try {
    compiled = compile(bodies, limits);
  } catch (error) {
    if (error instanceof TemplateSyntaxError) return error.errors;
    throw error;
  }
  const errors: FieldError[] = [];
  const standIns: Record<string, StandIn> = Object.create(null);
  for (const { part, templates, mode } of compiled) {
    const liquid = engineFor(mode, limits);
    for (const segments of liquid.variableSegmentsSync(templates)) {
      const forbidden = mentionsForbidden(segments);
      if (forbidden) {
        errors.push({
          field: part,
          in: 'body',
          reason: `reads ${forbidden}, which is JavaScript machinery, not a variable`,
        });
        break;
      }
    }
    for (const segments of liquid.globalVariableSegmentsSync(templates)) {
      const root = segments[0];
      if (typeof root === 'string') standIns[root] = STAND_IN;
    }
  }
  if (errors.length > 0) return errors;

  const deadline = performance.now() + limits.timeMs;
  let shared: { renderLimit: Limiter; memoryLimit: Limiter } | undefined;
  for (const item of compiled) {
    try {
      const { context } = renderPart(item, standIns, limits, shared, deadline, { strict: false });
      shared ??= { renderLimit: context.renderLimit, memoryLimit: context.memoryLimit };
    } catch (error) {
      // Only limits count here: anything else may well render with real values.
      for (const leaf of leaves(error)) {
        const failure = classify(leaf, limits);
        if (failure.kind === 'limit') {
          return [{ field: item.part, in: 'body', reason: failure.reason }];
        }
      }
    }
  }
  return [];
}

export interface RenderOutput {
  subject: string | null;
  html: string | null;
  text: string;
}

export type RenderResult =
  | { ok: true; value: RenderOutput }
  | {
      ok: false;
      /** `missing`: only variables are missing; `invalid`: the template failed with these variables. */
      kind: 'missing' | 'invalid';
      errors: FieldError[];
      /** The missing variables' paths, e.g. `user.name`. */
      missing: string[];
    };

const VARIABLES_DEPTH_MAX = 32;

/**
 * Maps every object in the variables to its path, so misses are named by input path; refuses variables
 * nested deeper than a template could sensibly read (and cycles, which an in-process caller could pass).
 */
function originsOf(variables: Record<string, unknown>): WeakMap<object, string[]> | FieldError {
  const origins = new WeakMap<object, string[]>();
  const stack: { value: unknown; path: string[] }[] = Object.entries(variables).map(([key, value]) => ({
    value,
    path: [key],
  }));
  while (stack.length > 0) {
    const { value, path } = stack.pop() as { value: unknown; path: string[] };
    if (typeof value !== 'object' || value === null) continue;
    if (path.length > VARIABLES_DEPTH_MAX) {
      return {
        field: `variables.${path.slice(0, VARIABLES_DEPTH_MAX).join('.')}`,
        in: 'body',
        reason: `nests deeper than ${VARIABLES_DEPTH_MAX} levels`,
      };
    }
    if (origins.has(value)) continue;
    origins.set(value, path);
    for (const [key, inner] of Object.entries(value)) stack.push({ value: inner, path: [...path, key] });
  }
  return origins;
}

/** One line: a subject is a header, so a variable holding a line break cannot add headers. */
function oneLine(text: string): string {
  return text
    .split(/[\r\n\u2028\u2029]+/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
}

/**
 * Renders a version with `variables`. Every variable the render needed and did not get is named (up to
 * MISSING_REPORTED_MAX), by its path in the variables; a variable only tested in `{% if %}` or given a
 * `| default` is optional. `key` (the version id) lets the parse be reused.
 */
export function renderTemplate(
  bodies: TemplateBodies,
  variables: Record<string, unknown>,
  options: { key?: string; limits?: RenderLimits } = {},
): RenderResult {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const origins = originsOf(variables);
  if (!(origins instanceof WeakMap)) {
    return { ok: false, kind: 'invalid', errors: [origins], missing: [] };
  }
  let compiled: Compiled[];
  try {
    compiled = compile(bodies, limits, options.key);
  } catch (error) {
    if (error instanceof TemplateSyntaxError) {
      return { ok: false, kind: 'invalid', errors: error.errors, missing: [] };
    }
    throw error;
  }
  // A copy without a prototype: `increment` writes into it, and no name resolves to Object's members.
  const environment: Record<string, unknown> = Object.assign(Object.create(null), variables);
  const deadline = performance.now() + limits.timeMs;
  const outputs: Partial<Record<Part, string>> = {};
  // Path → where it is first read, e.g. `the content reads it on line 3`.
  const missing = new Map<string, string>();
  const errors: FieldError[] = [];
  let shared: { renderLimit: Limiter; memoryLimit: Limiter } | undefined;
  for (const item of compiled) {
    try {
      const { output, context } = renderPart(item, environment, limits, shared, deadline, {
        strict: true,
        origins,
      });
      shared ??= { renderLimit: context.renderLimit, memoryLimit: context.memoryLimit };
      outputs[item.part] = output;
    } catch (error) {
      for (const leaf of leaves(error)) {
        const failure = classify(leaf, limits);
        if (failure.kind === 'limit') {
          return {
            ok: false,
            kind: 'invalid',
            errors: [{ field: item.part, in: 'body', reason: failure.reason }],
            missing: [],
          };
        }
        if (failure.kind === 'missing') {
          const path = failure.path.join('.');
          if (!missing.has(path)) missing.set(path, readAt(item.part, leaf));
        } else errors.push({ field: item.part, in: 'body', reason: failure.reason });
      }
    }
  }
  if (missing.size > 0 || errors.length > 0) {
    const named = [...missing.keys()].slice(0, MISSING_REPORTED_MAX);
    return {
      ok: false,
      kind: errors.length === 0 ? 'missing' : 'invalid',
      errors: [
        ...named.map((path) => ({
          field: `variables.${path}`,
          in: 'body' as const,
          reason: `is missing: ${missing.get(path)}`,
        })),
        ...dedupe(errors),
      ],
      missing: named,
    };
  }
  return finish(bodies.type, outputs);
}

const PART_NAMES: Record<Part, string> = {
  subject: 'the subject',
  content: 'the content',
  text_content: 'the text part',
};

/** Where a missing variable was read: the part, and the line when LiquidJS knows it. */
function readAt(part: Part, error: unknown): string {
  const token = (error as { token?: unknown }).token;
  const line = token instanceof Token ? token.getPosition()[0] : undefined;
  return `${PART_NAMES[part]} reads it${line === undefined ? '' : ` on line ${line}`}`;
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((error) => {
    const key = `${error.field}\u0000${error.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function finish(type: TemplateType, outputs: Partial<Record<Part, string>>): RenderResult {
  const content = outputs.content ?? '';
  const subject = outputs.subject === undefined ? null : oneLine(outputs.subject);
  switch (type) {
    case 'email':
      return {
        ok: true,
        value: { subject, html: content, text: outputs.text_content ?? htmlToText(content) },
      };
    case 'in_app':
      return { ok: true, value: { subject, html: content, text: htmlToText(content) } };
    case 'webhook':
      try {
        JSON.parse(content);
      } catch (error) {
        return {
          ok: false,
          kind: 'invalid',
          errors: [
            {
              field: 'content',
              in: 'body',
              reason: `renders to text that is not JSON (${(error as Error).message}); outputs are inserted as JSON values, so write {{ name }} where the value goes, not "{{ name }}", and join text with | append`,
            },
          ],
          missing: [],
        };
      }
      return { ok: true, value: { subject: null, html: null, text: content } };
    default:
      return { ok: true, value: { subject, html: null, text: content } };
  }
}
