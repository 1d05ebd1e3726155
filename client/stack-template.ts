import type { FunctionDeclaration, TableDeclaration } from '../shared/declarations.js';

/**
 * Reading a deployed stack's template for what its outputs do not name: which table is which declared table (by the
 * keys, indexes and TTL the declaration gives it) and which log group a declared function writes to (the
 * LoggingConfig of the function with the declared description). The answer is a logical id read from the template,
 * which the stack's resource list maps to the physical id; nothing here guesses an id from a construct name.
 */

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

export interface StackTemplate {
  Resources?: Record<string, TemplateResource>;
}

interface KeySchemaElement {
  AttributeName?: string;
  KeyType?: string;
}

function keysOf(schema: unknown): { hash?: string; range?: string } {
  const elements = Array.isArray(schema) ? (schema as KeySchemaElement[]) : [];
  return {
    hash: elements.find((e) => e.KeyType === 'HASH')?.AttributeName,
    range: elements.find((e) => e.KeyType === 'RANGE')?.AttributeName,
  };
}

function isDeclaredTable(properties: Record<string, unknown>, declaration: TableDeclaration): boolean {
  const keys = keysOf(properties.KeySchema);
  if (keys.hash !== declaration.partitionKey.name || keys.range !== declaration.sortKey?.name) return false;
  const indexes = ((properties.GlobalSecondaryIndexes as { IndexName?: string }[] | undefined) ?? [])
    .map((i) => i.IndexName)
    .sort();
  if (
    indexes.join(',') !==
    declaration.indexes
      .map((i) => i.name)
      .sort()
      .join(',')
  )
    return false;
  const ttl = (properties.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined) ?? {};
  return (ttl.Enabled ? ttl.AttributeName : undefined) === declaration.timeToLiveAttribute;
}

function resourcesOfType(template: StackTemplate, type: string): [string, Record<string, unknown>][] {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === type)
    .map(([logicalId, resource]) => [logicalId, resource.Properties ?? {}]);
}

/** The logical ids of the stack's tables shaped as the declaration says (one, unless two declared tables look alike). */
export function declaredTableIds(template: StackTemplate, declaration: TableDeclaration): string[] {
  return resourcesOfType(template, 'AWS::DynamoDB::Table')
    .filter(([, properties]) => isDeclaredTable(properties, declaration))
    .map(([logicalId]) => logicalId);
}

/** The logical id of the log group the declared function writes to, when the stack gives it one of its own. */
export function functionLogGroupId(template: StackTemplate, declaration: FunctionDeclaration): string | undefined {
  for (const [, properties] of resourcesOfType(template, 'AWS::Lambda::Function')) {
    if (properties.Description !== declaration.description) continue;
    const logGroup = (properties.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup;
    const ref = (logGroup as { Ref?: unknown } | undefined)?.Ref;
    if (typeof ref === 'string') return ref;
  }
  return undefined;
}
