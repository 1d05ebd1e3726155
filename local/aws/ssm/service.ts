import type { AwsJsonService } from '../protocol.js';
import { operation } from '../schema.js';
import { SsmProvider, validation } from './provider.js';
import * as input from './schemas.js';
import { SsmStore } from './store.js';

/**
 * SSM Parameter Store over the AWS JSON 1.1 protocol (X-Amz-Target: AmazonSSM.<Operation>), enough for the handlers,
 * Powertools Parameters and the operator CLI. Every input is checked against its schema (schemas.ts) first: a
 * mistyped member is a SerializationException, a missing or over-long one a ValidationException.
 *
 * Deliberate differences: KeyId is recorded, not checked against KMS; parameter labels, policies and the
 * aws:ec2:image data type are not emulated (a label selector is a ValidationException); the default tier is Standard.
 */
export function createSsmService(stateDir: string): AwsJsonService {
  const ssm = new SsmProvider(new SsmStore(stateDir));
  return {
    targetPrefix: 'AmazonSSM',
    jsonVersion: '1.1',
    operations: {
      PutParameter: operation(input.PutParameterInput, validation, (request, context) =>
        ssm.putParameter(request, context),
      ),
      GetParameter: operation(input.GetParameterInput, validation, (request) => ssm.getParameter(request)),
      GetParameters: operation(input.GetParametersInput, validation, (request) => ssm.getParameters(request)),
      DeleteParameter: operation(input.DeleteParameterInput, validation, (request) => ssm.deleteParameter(request)),
      GetParametersByPath: operation(input.GetParametersByPathInput, validation, (request) =>
        ssm.getParametersByPath(request),
      ),
      DescribeParameters: operation(input.DescribeParametersInput, validation, (request) =>
        ssm.describeParameters(request),
      ),
    },
  };
}
