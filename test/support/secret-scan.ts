/**
 * Finds secret values in a synthesized CloudFormation template: secret-bearing properties that are literals instead
 * of references (GetAtt / {{resolve:secretsmanager:...}}), and long random-looking strings anywhere else.
 */

export interface SecretFinding {
  where: string;
  why: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const DYNAMIC_SECRET_REFERENCE = /^\{\{resolve:secretsmanager:[^}]+\}\}$/;

/** Literal parts of a value with intrinsics replaced by markers (enough to see the shape of a Fn::Join). */
function flatten(value: Json | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || Array.isArray(value)) return undefined;
  if ('Fn::Join' in value) {
    const [separator, parts] = value['Fn::Join'] as [string, Json[]];
    const flat = parts.map((part) => flatten(part) ?? '<intrinsic>');
    return flat.join(separator);
  }
  return '<intrinsic>';
}

function isDynamicSecretReference(value: Json | undefined): boolean {
  const flat = flatten(value);
  return flat !== undefined && DYNAMIC_SECRET_REFERENCE.test(flat);
}

function isReference(value: Json | undefined): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && ('Fn::GetAtt' in value || 'Ref' in value)
  );
}

function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/** CDK logical ids and generated names end in a hex hash (8 characters, more for deployments): structure. */
const CDK_GENERATED_NAME = /^[A-Za-z][A-Za-z0-9]*(?:[0-9A-F]{8}|[0-9A-F]{8}[0-9a-f]{32})$/;

/** Identifiers are made of words ("RateLimitPerIp", "Ipv4"); random strings split into 1-2 character pieces. */
function averageWordLength(run: string): number {
  const words = run.match(/[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+/g) ?? [run];
  return run.replace(/[^A-Za-z0-9]/g, '').length / words.length;
}

/**
 * Runs of 24+ characters of the alphabets secrets use here (Cognito client secrets, Secrets Manager generated
 * values, base64) that mix upper case, lower case and digits, have high entropy and are not made of words.
 */
export function looksRandom(text: string): string[] {
  return (text.match(/[A-Za-z0-9+_-]{24,}/g) ?? []).filter(
    (run) =>
      /[A-Z]/.test(run) &&
      /[a-z]/.test(run) &&
      /\d/.test(run) &&
      !CDK_GENERATED_NAME.test(run) &&
      shannonEntropy(run) >= 4.2 &&
      averageWordLength(run) < 3,
  );
}

/** Keys whose values name other things in the template (logical ids, export names), never carry data. */
const STRUCTURAL_KEYS = new Set([
  'Ref',
  'Fn::GetAtt',
  'Fn::ImportValue',
  'DependsOn',
  'Condition',
  'Export',
  'Metadata',
]);

function scanStrings(value: Json, where: string, findings: SecretFinding[]): void {
  if (typeof value === 'string') {
    for (const run of looksRandom(value))
      findings.push({ where, why: `random-looking literal "${run.slice(0, 6)}…" (${run.length} chars)` });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => scanStrings(item, `${where}[${i}]`, findings));
    return;
  }
  if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (STRUCTURAL_KEYS.has(key)) continue;
      scanStrings(child, `${where}.${key}`, findings);
    }
  }
}

export function scanTemplateForSecrets(
  name: string,
  template: { Resources?: Record<string, any>; Outputs?: Record<string, any>; Parameters?: Record<string, any> },
): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const resources = template.Resources ?? {};
  for (const [id, resource] of Object.entries(resources)) {
    const where = `${name}/${id}`;
    const props = (resource.Properties ?? {}) as Record<string, Json>;
    switch (resource.Type) {
      case 'AWS::SecretsManager::Secret':
        if (props.SecretString !== undefined && !isReference(props.SecretString)) {
          findings.push({ where: `${where}.SecretString`, why: 'secret value is not a reference' });
        }
        break;
      case 'AWS::ApiGateway::ApiKey':
        if (props.Value !== undefined && !isDynamicSecretReference(props.Value)) {
          findings.push({ where: `${where}.Value`, why: 'API key value is not a Secrets Manager dynamic reference' });
        }
        break;
      case 'AWS::Events::Connection': {
        const auth = (props.AuthParameters ?? {}) as Record<string, any>;
        const secrets: [string, Json | undefined][] = [
          ['OAuthParameters.ClientParameters.ClientSecret', auth.OAuthParameters?.ClientParameters?.ClientSecret],
          ['BasicAuthParameters.Password', auth.BasicAuthParameters?.Password],
          ['ApiKeyAuthParameters.ApiKeyValue', auth.ApiKeyAuthParameters?.ApiKeyValue],
        ];
        for (const [path, value] of secrets) {
          if (value !== undefined && !isDynamicSecretReference(value)) {
            findings.push({
              where: `${where}.AuthParameters.${path}`,
              why: 'connection secret is not a dynamic reference',
            });
          }
        }
        break;
      }
      case 'AWS::Cognito::UserPoolClient':
        if (props.ClientSecret !== undefined)
          findings.push({ where: `${where}.ClientSecret`, why: 'client secret set in the template' });
        break;
      case 'AWS::SSM::Parameter':
        if (props.Type !== 'String' && props.Type !== 'StringList')
          findings.push({ where, why: `parameter type ${String(props.Type)}` });
        break;
      case 'AWS::Lambda::Function': {
        const variables = ((props.Environment as Record<string, Json> | undefined)?.Variables ?? {}) as Record<
          string,
          Json
        >;
        for (const [key, value] of Object.entries(variables)) {
          if (/(SECRET|PASSWORD|API_KEY|APIKEY|TOKEN)$/.test(key) && typeof value === 'string') {
            findings.push({
              where: `${where}.Environment.${key}`,
              why: 'secret-like environment variable holds a literal',
            });
          }
        }
        break;
      }
    }
  }
  for (const [section, content] of [
    ['Resources', resources],
    ['Outputs', template.Outputs ?? {}],
    ['Parameters', template.Parameters ?? {}],
  ] as const) {
    scanStrings(content as Json, `${name}/${section}`, findings);
  }
  return findings;
}
