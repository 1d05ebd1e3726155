export { COGNITO_IDP_TARGET_PREFIX, createCognitoIdentityProviderService } from './cognito-idp/service.js';
export type { LocalUserPool } from './cognito-idp/store.js';
