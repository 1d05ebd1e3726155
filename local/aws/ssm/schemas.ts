import { z } from 'zod';
import { integer, list, optional, text } from '../schema.js';

/** SSM's input, one schema per operation, with the constraints of the SSM API reference. */

const parameterName = text(1, 2048);
const nextToken = optional(text(0, 1024));
const parameterFilters = optional(
  list(
    z.object({
      Key: text(1, 132),
      Option: optional(text(1, 10)),
      Values: optional(list(text(1, 1024), 1, 50)),
    }),
    0,
    50,
  ),
);

export type ParameterFilter = NonNullable<z.output<typeof parameterFilters>>[number];

export const PutParameterInput = z.object({
  // SSM trims the name after checking its length.
  Name: parameterName.transform((name) => name.trim()),
  Value: text(1),
  Type: optional(z.enum(['String', 'StringList', 'SecureString'])),
  Description: optional(text(0, 1024)),
  KeyId: optional(text(1, 256)),
  Overwrite: optional(z.boolean()),
  AllowedPattern: optional(text(0, 1024)),
  Tags: optional(list(z.object({ Key: text(1, 128), Value: text(0, 256) }), 0, 1000)),
  Tier: optional(z.enum(['Standard', 'Advanced', 'Intelligent-Tiering'])),
  Policies: optional(text(1, 4096)),
  DataType: optional(text(0, 128)),
});

export const GetParameterInput = z.object({ Name: parameterName, WithDecryption: optional(z.boolean()) });

export const GetParametersInput = z.object({
  Names: list(parameterName, 1, 10),
  WithDecryption: optional(z.boolean()),
});

export const DeleteParameterInput = z.object({ Name: parameterName });

export const GetParametersByPathInput = z.object({
  Path: parameterName,
  Recursive: optional(z.boolean()),
  WithDecryption: optional(z.boolean()),
  ParameterFilters: parameterFilters,
  MaxResults: optional(integer(1, 10)),
  NextToken: nextToken,
});

export const DescribeParametersInput = z.object({
  // The legacy Filters are read only to be refused (the provider asks for ParameterFilters).
  Filters: optional(z.array(z.unknown())),
  ParameterFilters: parameterFilters,
  MaxResults: optional(integer(1, 50)),
  NextToken: nextToken,
});
