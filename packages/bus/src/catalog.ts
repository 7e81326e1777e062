import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import Type, { type Static, type TSchema } from 'typebox';
import { envelopeOf } from './binding.ts';
import type { CloudEvent } from './envelope.ts';

/** Event type → schema of its `data`. A subscription with a catalog only sees events it lists, validated. */
export type EventCatalog = Record<string, TSchema>;

/** The events a catalog admits, typed: `event.type` narrows `event.data`. */
export type CatalogEvent<C extends EventCatalog> = {
  [K in keyof C & string]: CloudEvent<Static<C[K]>, K>;
}[keyof C & string];

export const CloudEventSchema = Type.Object({
  specversion: Type.Literal('1.0'),
  id: Type.String({ format: 'uuid' }),
  type: Type.String({ minLength: 1, maxLength: 255 }),
  source: Type.String({ minLength: 1 }),
  subject: Type.String({ minLength: 1 }),
  time: Type.String({ format: 'date-time' }),
  datacontenttype: Type.Optional(Type.Literal('application/json')),
  data: Type.Unknown(),
  partitionkey: Type.String({ minLength: 1 }),
  correlationid: Type.Optional(Type.String()),
  causationid: Type.Optional(Type.String()),
  traceparent: Type.Optional(Type.String()),
});

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
const validateEnvelope = ajv.compile(CloudEventSchema);

function describe(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .map((error) => `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'}`)
    .join('; ');
}

/** What a consumer makes of one message before any handler sees it. */
export type Inspection =
  | { kind: 'event'; event: CloudEvent }
  | { kind: 'foreign'; event: CloudEvent }
  | { kind: 'malformed'; error: string; event?: undefined }
  | { kind: 'schema'; event: CloudEvent; error: string };

/** Validates envelopes, and `data` against a catalog; compiled once per catalog. */
export function createInspector(
  catalog: EventCatalog | undefined,
): (value: unknown, headers?: Record<string, string>) => Inspection {
  const validators = new Map(
    Object.entries(catalog ?? {}).map(([type, schema]) => [type, ajv.compile(schema)]),
  );
  return (value, headers) => {
    const decoded = envelopeOf(value, headers);
    if ('error' in decoded) return { kind: 'malformed', error: decoded.error };
    const parsed = decoded.envelope;
    if (!validateEnvelope(parsed)) {
      return { kind: 'malformed', error: `not a CloudEvent: ${describe(validateEnvelope)}` };
    }
    const event = parsed as CloudEvent;
    if (!catalog) return { kind: 'event', event };
    const validate = validators.get(event.type);
    if (!validate) return { kind: 'foreign', event };
    if (!validate(event.data))
      return { kind: 'schema', event, error: `data of ${event.type}: ${describe(validate)}` };
    return { kind: 'event', event };
  };
}
