export { createSecretsManagerService } from './secrets-manager/service.js';
