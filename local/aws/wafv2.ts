export { LocalWaf, type LocalWebAclDeclaration } from './wafv2/provider.js';
export type { LocalIpSetDeclaration } from './wafv2/store.js';
