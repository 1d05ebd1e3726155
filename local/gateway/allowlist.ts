import { CidrSet } from './cidr.js';

/** Anything that answers "is this source address in the list?": a CidrSet, or a list that changes at run time. */
export interface AddressMatcher {
  contains(address: string): boolean;
}

/** A fixed list as a CidrSet; a matcher as it is (read on every request). */
export function matcherOf(cidrs: readonly string[] | AddressMatcher): AddressMatcher {
  return Array.isArray(cidrs) ? new CidrSet(cidrs as readonly string[]) : (cidrs as AddressMatcher);
}

/**
 * A CIDR list that can be replaced while the gateway runs, as an AWS WAF IP set is replaced by UpdateIPSet: the
 * next request is matched against the new list. A replacement is validated whole before it is swapped in, so a bad
 * entry leaves the previous list in force.
 */
export class ReplaceableCidrSet implements AddressMatcher {
  private current: CidrSet;

  constructor(cidrs: readonly string[]) {
    this.current = new CidrSet(cidrs);
  }

  get cidrs(): readonly string[] {
    return this.current.cidrs;
  }

  replace(cidrs: readonly string[]): void {
    this.current = new CidrSet(cidrs);
  }

  contains(address: string): boolean {
    return this.current.contains(address);
  }
}

/**
 * A list persisted across restarts whose first entries came from configuration (the "base": the car maker's egress,
 * derived at every start as the stack derives it). When the base changes between runs (another egress address),
 * the old base entries are swapped for the new ones and every entry an operator added stays; when it has not
 * changed, the stored list is kept exactly as the operator left it.
 */
export function rebaseList(
  stored: readonly string[],
  storedBase: readonly string[],
  base: readonly string[],
): string[] {
  if (sameMembers(storedBase, base)) return [...stored];
  const oldBase = new Set(storedBase);
  const added = stored.filter((entry) => !oldBase.has(entry) && !base.includes(entry));
  return [...base, ...added];
}

export function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((entry) => right.has(entry));
}
