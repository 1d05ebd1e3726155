import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as z from '../zod.js';

/**
 * API Gateway validates request bodies against JSON Schema draft-4 models. The model is generated from the same zod
 * schema the handler parses with, so the gateway and the handler cannot disagree about what a valid body is.
 * `io: 'input'` describes what a client may send (fields with a default are optional).
 */
export function requestModelSchema(schema: z.core.$ZodType): apigateway.JsonSchema {
  const jsonSchema = z.toJSONSchema(schema, { target: 'draft-4', io: 'input' }) as Record<string, unknown>;
  return toApiGatewaySchema(jsonSchema, '#');
}

const TYPES: Record<string, apigateway.JsonSchemaType> = {
  null: apigateway.JsonSchemaType.NULL,
  boolean: apigateway.JsonSchemaType.BOOLEAN,
  object: apigateway.JsonSchemaType.OBJECT,
  array: apigateway.JsonSchemaType.ARRAY,
  number: apigateway.JsonSchemaType.NUMBER,
  integer: apigateway.JsonSchemaType.INTEGER,
  string: apigateway.JsonSchemaType.STRING,
};

/** Keywords copied as they are (their JSON Schema and apigateway.JsonSchema names are the same). */
const SCALAR_KEYWORDS = [
  'title',
  'description',
  'format',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxProperties',
  'minProperties',
  'required',
  'enum',
  'default',
] as const;

function type(value: unknown, at: string): apigateway.JsonSchemaType | apigateway.JsonSchemaType[] {
  const one = (name: unknown): apigateway.JsonSchemaType => {
    const mapped = typeof name === 'string' ? TYPES[name] : undefined;
    if (!mapped) throw new Error(`${at}: unsupported JSON Schema type ${JSON.stringify(name)}`);
    return mapped;
  };
  return Array.isArray(value) ? value.map(one) : one(value);
}

/**
 * Converts a plain draft-4 JSON Schema object into apigateway.JsonSchema. Any keyword it does not know makes it throw,
 * so a constraint is never silently dropped from the gateway model.
 */
export function toApiGatewaySchema(node: Record<string, unknown>, at: string): apigateway.JsonSchema {
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(node)) {
    const here = `${at}/${keyword}`;
    switch (keyword) {
      case '$schema':
        if (value !== 'http://json-schema.org/draft-04/schema#') throw new Error(`${here}: expected draft-04`);
        out.schema = apigateway.JsonSchemaVersion.DRAFT4;
        break;
      case 'type':
        out.type = type(value, here);
        break;
      case 'properties':
      case 'patternProperties':
      case 'definitions':
        out[keyword] = Object.fromEntries(
          Object.entries(value as Record<string, Record<string, unknown>>).map(([name, child]) => [
            name,
            toApiGatewaySchema(child, `${here}/${name}`),
          ]),
        );
        break;
      case 'additionalProperties':
      case 'additionalItems':
      case 'not':
        out[keyword] = typeof value === 'boolean' ? value : toApiGatewaySchema(value as Record<string, unknown>, here);
        break;
      case 'items':
        out.items = Array.isArray(value)
          ? value.map((child, i) => toApiGatewaySchema(child as Record<string, unknown>, `${here}/${i}`))
          : toApiGatewaySchema(value as Record<string, unknown>, here);
        break;
      case 'anyOf':
      case 'allOf':
      case 'oneOf':
        out[keyword] = (value as Record<string, unknown>[]).map((child, i) =>
          toApiGatewaySchema(child, `${here}/${i}`),
        );
        break;
      default:
        if ((SCALAR_KEYWORDS as readonly string[]).includes(keyword)) {
          out[keyword] = value;
          break;
        }
        throw new Error(`${here}: JSON Schema keyword "${keyword}" is not supported in API Gateway models here`);
    }
  }
  return out as apigateway.JsonSchema;
}
