import { SSMClient } from '@aws-sdk/client-ssm';
import type { CarOrdersEnvironment } from './environment.js';
import { SupplierApi } from './supplier-api.js';
import { clientCredentialsTokenSource, loadSecretString, loadSupplierConnection } from './supplier-connection.js';
import { SupplierTokenProvider } from './token-provider.js';
import { SupplierTokenStore } from './token-store.js';

export const SUPPLIER_VARIABLES = [
  'SUPPLIER_CONNECTION_PARAMETER',
  'SUPPLIER_TOKEN_PARAMETER',
  'SUPPLIER_TOKEN_KEY_ID',
  'SUPPLIER_SCOPE',
  'SUPPLIER_TIMEOUT_MS',
] as const;

type SupplierEnvironment = Pick<CarOrdersEnvironment, (typeof SUPPLIER_VARIABLES)[number]>;

/** Everything that talks to the supplier, wired from the function's environment. */
export function supplierFromEnvironment(env: SupplierEnvironment, ssm: SSMClient = new SSMClient({})) {
  const tokenStore = new SupplierTokenStore(ssm, env.SUPPLIER_TOKEN_PARAMETER, env.SUPPLIER_TOKEN_KEY_ID);
  const tokenSource = clientCredentialsTokenSource({
    connectionParameter: env.SUPPLIER_CONNECTION_PARAMETER,
    scope: env.SUPPLIER_SCOPE,
    timeoutMs: env.SUPPLIER_TIMEOUT_MS,
  });
  const tokens = new SupplierTokenProvider(tokenStore, tokenSource);
  const api = new SupplierApi({
    connection: () => loadSupplierConnection(env.SUPPLIER_CONNECTION_PARAMETER),
    secret: loadSecretString,
    tokens,
    timeoutMs: env.SUPPLIER_TIMEOUT_MS,
  });
  return { tokenStore, tokenSource, tokens, api };
}
