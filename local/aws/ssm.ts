export { createSsmService } from './ssm/service.js';
