import { join } from 'node:path';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { carOrdersClients } from '../car-orders/service.js';
import type { PlatformNames } from '../shared/names.js';
import { tireOrdersClients } from '../tire-orders/service.js';
import type { ApiKeyRegistry } from './gateway/index.js';
import type { AuthorizationServer } from './identity/authorization-server.js';
import { JsonStore } from './state/json-store.js';

/** Created once per state directory, kept across restarts: the demo customer's secret is only known here. */
export interface BootstrapState {
  customer?: { clientId: string; clientSecret: string };
  supplierCallbackClientId?: string;
  carMakerClientId?: string;
  tireApiKeyId?: string;
}

/**
 * First boot: the declared app clients (with their declared scopes) and the car maker's API key that the stacks
 * create, their secrets in Secrets Manager under the names of shared/names.ts. Later boots find them in
 * bootstrap.json.
 */
export async function bootstrapClients(input: {
  stateDir: string;
  carAuth: AuthorizationServer;
  tireAuth: AuthorizationServer;
  apiKeys: ApiKeyRegistry;
  secrets: SecretsManagerClient;
  names: PlatformNames;
}): Promise<Required<BootstrapState>> {
  const { carAuth, tireAuth, apiKeys, secrets, names } = input;
  const bootstrap = new JsonStore<BootstrapState>(join(input.stateDir, 'bootstrap.json'), () => ({}));
  const storeSecret = (name: string, value: string) =>
    secrets.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  if (!bootstrap.get().customer) {
    const created = await carAuth.createClient({
      name: 'demo-customer',
      scopes: [...carOrdersClients.customer.scopes],
    });
    bootstrap.update((s) => {
      s.customer = { clientId: created.clientId, clientSecret: created.clientSecret };
    });
  }
  if (!bootstrap.get().supplierCallbackClientId) {
    const created = await carAuth.createClient({
      name: 'supplier-callback',
      scopes: [...carOrdersClients.supplierCallback.scopes],
    });
    await storeSecret(names.supplierCallbackClientSecret, created.clientSecret);
    bootstrap.update((s) => {
      s.supplierCallbackClientId = created.clientId;
    });
  }
  if (!bootstrap.get().carMakerClientId) {
    const created = await tireAuth.createClient({ name: 'car-maker', scopes: [...tireOrdersClients.carMaker.scopes] });
    await storeSecret(names.carMakerClientSecret, created.clientSecret);
    bootstrap.update((s) => {
      s.carMakerClientId = created.clientId;
    });
  }
  if (!bootstrap.get().tireApiKeyId) {
    const key = apiKeys.create({ name: 'car-maker', usagePlanId: names.usagePlan });
    await storeSecret(names.tireApiKeySecret, key.value);
    bootstrap.update((s) => {
      s.tireApiKeyId = key.id;
    });
  }
  return bootstrap.get() as Required<BootstrapState>;
}
