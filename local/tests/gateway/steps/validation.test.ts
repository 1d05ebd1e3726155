import { describe, expect, it } from 'vitest';
import { validationStep } from '../../../gateway/steps/validation.js';
import { fakeRequest } from './support.js';

describe('validation step', () => {
  const step = validationStep();
  const post = (headers: Record<string, string>, body?: string) =>
    fakeRequest({ method: 'POST', path: '/prod/orders', headers, ...(body !== undefined ? { body } : {}) });

  it('lets a request with the required headers and a body of the model through', () => {
    expect(step.run(post({ 'Idempotency-Key': 'k' }, '{"quantity":4}'))).toBeUndefined();
    expect(step.run(fakeRequest())).toBeUndefined();
  });

  it('names the missing (or blank) required headers first', () => {
    expect(step.run(post({ 'Idempotency-Key': '  ' }, 'not json'))).toEqual({
      refuse: 'BAD_REQUEST_PARAMETERS',
      message: 'Missing required request parameters: [Idempotency-Key]',
    });
  });

  it.each([
    ['malformed JSON', '{"quantity":'],
    ['no body', undefined],
    ['a field of the wrong type', '{"quantity":"4"}'],
    ['an unknown field', '{"quantity":4,"extra":1}'],
  ])('answers Invalid request body to %s', (_, body) => {
    expect(step.run(post({ 'Idempotency-Key': 'k' }, body))).toMatchObject({ refuse: 'BAD_REQUEST_BODY' });
  });

  it('names the failing field and why, as $context.error.validationErrorString does', () => {
    expect(step.run(post({ 'Idempotency-Key': 'k' }, '{"quantity":"4"}'))).toEqual({
      refuse: 'BAD_REQUEST_BODY',
      validationErrors: "[Path '/quantity'] Invalid input: expected number, received string",
    });
    expect(step.run(post({ 'Idempotency-Key': 'k' }, '{"quantity":4,"extra":1}'))).toEqual({
      refuse: 'BAD_REQUEST_BODY',
      validationErrors: "[Path ''] properties not allowed: extra",
    });
    expect(step.run(post({ 'Idempotency-Key': 'k' }, '{"quantity":'))).toEqual({
      refuse: 'BAD_REQUEST_BODY',
      validationErrors: "[Path ''] the body is not JSON",
    });
  });
});
