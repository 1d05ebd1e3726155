import { z } from 'zod';
import { integer, list, optional, text } from '../schema.js';

/** WAFv2's input, one schema per operation, with the constraints of the WAFv2 API reference. */

const name = text(1, 128).regex(/^[\w-]+$/, 'Member must satisfy regular expression pattern: ^[\\w\\-]+$');
const scope = z.enum(['CLOUDFRONT', 'REGIONAL']);
const id = text(1, 36);

const page = { Limit: optional(integer(1, 100)), NextMarker: optional(text(1, 256)) };

export const ListInput = z.object({ Scope: scope, ...page });

export const GetIpSetInput = z.object({ Name: name, Scope: scope, Id: id });

export const UpdateIpSetInput = z.object({
  Name: name,
  Scope: scope,
  Id: id,
  Description: optional(text(1, 256)),
  // WAF's own limit is 10,000 addresses per IP set; each is checked as a CIDR block by the provider.
  Addresses: list(text(1, 50), 0, 10_000),
  LockToken: text(1, 36),
});

/** GetWebACL: by ARN, or by Name, Scope and Id. */
export const GetWebAclInput = z
  .object({ ARN: optional(text(20, 2048)), Name: optional(name), Scope: optional(scope), Id: optional(id) })
  .refine((request) => request.ARN !== undefined || (request.Name && request.Scope && request.Id), {
    message: 'Member must not be null',
    path: ['Name'],
  });
