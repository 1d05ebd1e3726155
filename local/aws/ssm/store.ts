import { join } from 'node:path';
import { JsonStore } from '../../state/json-store.js';
import { AtRestCipher } from '../at-rest.js';

/** SSM's state: parameters with their versions in `{stateDir}/ssm.json`, SecureStrings sealed at rest. */

export type ParameterType = 'String' | 'StringList' | 'SecureString';
export type ParameterTier = 'Standard' | 'Advanced';

export interface StoredVersion {
  version: number;
  type: ParameterType;
  /** Plain value (String, StringList). */
  value?: string;
  /** AtRestCipher-sealed value (SecureString). */
  sealed?: string;
  keyId?: string;
  description?: string;
  allowedPattern?: string;
  tier: ParameterTier;
  dataType: string;
  lastModifiedDate: number;
  lastModifiedUser: string;
}

export interface StoredParameter {
  name: string;
  tags: { Key: string; Value: string }[];
  versions: StoredVersion[];
}

interface SsmState {
  parameters: Record<string, StoredParameter>;
}

/** SSM keeps 100 versions; the oldest goes when a new one is added. */
const MAX_VERSIONS = 100;

export class SsmStore {
  private readonly store: JsonStore<SsmState>;
  private readonly cipher: AtRestCipher;

  constructor(stateDir: string) {
    this.store = new JsonStore<SsmState>(join(stateDir, 'ssm.json'), () => ({ parameters: {} }));
    this.cipher = AtRestCipher.forStateDir(stateDir);
  }

  parameter(name: string): StoredParameter | undefined {
    return this.store.get().parameters[name];
  }

  /** Every parameter, in name order (code units, the order page tokens assume). */
  sorted(): StoredParameter[] {
    return Object.values(this.store.get().parameters).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  addVersion(name: string, version: StoredVersion, tags: StoredParameter['tags']): void {
    this.store.update((state) => {
      const parameter = state.parameters[name] ?? { name, tags, versions: [] };
      parameter.versions = [...parameter.versions, version].slice(-MAX_VERSIONS);
      state.parameters[name] = parameter;
    });
  }

  delete(name: string): void {
    this.store.update((state) => {
      delete state.parameters[name];
    });
  }

  seal(name: string, value: string): string {
    return this.cipher.seal(value, sealContext(name));
  }

  open(name: string, sealed: string): string {
    return this.cipher.openString(sealed, sealContext(name));
  }
}

export function latest(parameter: StoredParameter): StoredVersion {
  return parameter.versions.at(-1) as StoredVersion;
}

function sealContext(name: string): string {
  return `ssm-parameter:${name}`;
}
