export { LocalApiGateway } from './api-gateway/provider.js';
export { escapePolicy, unescapePolicy } from './api-gateway/shapes.js';
export type { LocalRestApiDeclaration, LocalUsagePlanDeclaration } from './api-gateway/store.js';
