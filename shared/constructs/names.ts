import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

export * from '../names.js';

/** ARN of an SSM parameter in this stack's account and region, built without a lookup. */
export function parameterArn(scope: Construct, parameterName: string): string {
  return Stack.of(scope).formatArn({
    service: 'ssm',
    resource: 'parameter',
    resourceName: parameterName.replace(/^\//, ''),
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/**
 * ARN pattern of a Secrets Manager secret known by name only. Secrets Manager appends "-" and six random characters
 * to the name; `-??????` matches exactly those, so the grant does not also cover secrets whose names merely share
 * the prefix (the pattern AWS documents for name-based secret policies).
 */
export function secretArnPatternForName(scope: Construct, secretName: string): string {
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${secretName}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}
