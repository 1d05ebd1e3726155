import { describe, expect, it } from 'vitest';
// Only the Lambda's zod in this file's module graph: classic zod, which sets English messages by itself, is not loaded.
import * as z from '../zod.js';

describe('shared/zod (zod/mini for the Lambda bundles)', () => {
  it('says in English what is wrong with which field, as classic zod does', () => {
    const body = z.strictObject({ quantity: z.number().check(z.int(), z.gte(1)) });
    const messages = (value: unknown) =>
      body.safeParse(value).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);

    expect(messages({ quantity: '4' })).toEqual(['quantity: Invalid input: expected number, received string']);
    expect(messages({ quantity: 0 })).toEqual(['quantity: Too small: expected number to be >=1']);
    expect(messages({ quantity: 1, price: 10 })).toEqual([': Unrecognized key: "price"']);
  });
});
