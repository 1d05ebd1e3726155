import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKeyRegistry } from '../../../gateway/api-keys.js';
import { apiKeyStep } from '../../../gateway/steps/api-key.js';
import { fakeRequest, stepConfig } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'api-key-step-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('API key step', () => {
  const apiKeys = new ApiKeyRegistry(join(dir, 'keys.json'));
  const partner = apiKeys.create({ name: 'partner', usagePlanId: 'partners' });
  const stray = apiKeys.create({ name: 'stray' });
  const step = apiKeyStep(stepConfig({ apiKeys, usagePlan: { id: 'partners' } }));
  const post = (key?: string) =>
    fakeRequest({ method: 'POST', path: '/prod/orders', headers: key ? { 'x-api-key': key } : {} });

  it('asks nothing of a method that does not require a key', () => {
    expect(step.run(fakeRequest())).toBeUndefined();
  });

  it("accepts a key of the stage's usage plan and records its id and value for the integration", () => {
    const request = post(partner.value);
    expect(step.run(request)).toBeUndefined();
    expect(request.apiKey).toEqual({ id: partner.id, value: partner.value });
    expect(request.apiKeyId).toBe(partner.id);
  });

  it('answers Forbidden to a missing, unknown, plan-less or disabled key (recording a known key id)', () => {
    expect(step.run(post())).toEqual({ refuse: 'INVALID_API_KEY' });
    expect(step.run(post('not-a-key'))).toEqual({ refuse: 'INVALID_API_KEY' });
    const planless = post(stray.value);
    expect(step.run(planless)).toEqual({ refuse: 'INVALID_API_KEY' });
    expect(planless.apiKeyId).toBe(stray.id);
    apiKeys.disable(partner.id);
    expect(step.run(post(partner.value))).toEqual({ refuse: 'INVALID_API_KEY' });
  });

  it('refuses every key when the stage has no usage plan', () => {
    const noPlan = apiKeyStep(stepConfig({ apiKeys }));
    apiKeys.enable(partner.id);
    expect(noPlan.run(post(partner.value))).toEqual({ refuse: 'INVALID_API_KEY' });
  });
});
