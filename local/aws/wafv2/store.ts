import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { rebaseList, sameMembers } from '../../gateway/allowlist.js';
import { JsonStore } from '../../state/json-store.js';

/**
 * WAFv2's state: the IP sets under `{stateDir}/wafv2/ip-sets.json`, so onboarded partners survive a restart; the
 * list the runtime derives from configuration at each start is the base (see rebaseList).
 */

export interface LocalIpSetDeclaration {
  /** The IP set name the stack gives it, e.g. local-tire-orders-partners. */
  name: string;
  description: string;
  /** The CIDR blocks the runtime derives from configuration at every start (IPv4). */
  base: readonly string[];
}

export interface StoredIpSet {
  id: string;
  name: string;
  description: string;
  base: string[];
  addresses: string[];
  lockToken: string;
}

interface WafDocument {
  ipSets: Record<string, StoredIpSet>;
}

export class WafStore {
  private readonly store: JsonStore<WafDocument>;

  /** Opens the IP sets and rebases each on its declaration's current base. */
  constructor(stateDir: string, declarations: readonly LocalIpSetDeclaration[]) {
    this.store = new JsonStore<WafDocument>(join(stateDir, 'wafv2', 'ip-sets.json'), () => ({ ipSets: {} }));
    this.store.update((document) => {
      for (const declaration of declarations) {
        const stored = document.ipSets[declaration.name];
        if (!stored) {
          document.ipSets[declaration.name] = {
            id: randomUUID(),
            name: declaration.name,
            description: declaration.description,
            base: [...declaration.base],
            addresses: [...declaration.base],
            lockToken: randomUUID(),
          };
        } else if (!sameMembers(stored.base, declaration.base)) {
          stored.addresses = rebaseList(stored.addresses, stored.base, declaration.base);
          stored.base = [...declaration.base];
          stored.lockToken = randomUUID();
        }
      }
    });
  }

  ipSet(name: string): StoredIpSet | undefined {
    return this.store.get().ipSets[name];
  }

  /** Every IP set, in name order (code units, the order page tokens assume). */
  sorted(): StoredIpSet[] {
    return Object.values(this.store.get().ipSets).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** UpdateIPSet "completely replaces the mutable specifications": an omitted description is cleared. */
  replace(name: string, addresses: string[], description: string | undefined, lockToken: string): void {
    this.store.update((document) => {
      const stored = document.ipSets[name] as StoredIpSet;
      stored.addresses = addresses;
      stored.description = description ?? '';
      stored.lockToken = lockToken;
    });
  }
}
